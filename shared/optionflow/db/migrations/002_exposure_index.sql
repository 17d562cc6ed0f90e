-- The risk check counts accepted-but-unfilled entries on every batch; without this index that count
-- scanned the whole signals table, which grows with every alert ever received.
CREATE INDEX signals_open_entries_idx ON signals (ticker) WHERE action = 'BUY' AND status IN ('ACCEPTED', 'ORDERED');
