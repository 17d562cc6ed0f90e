-- The book a broker would keep: cancelled signals, stale-mark alerts, fees, the previous close's mark
-- for day P&L, and partial closes (a CLOSE for fewer contracts splits the lot it closes).

ALTER TABLE signals DROP CONSTRAINT signals_status_check;
ALTER TABLE signals ADD CONSTRAINT signals_status_check
    CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'ORDERED', 'EXECUTED', 'FAILED', 'CANCELLED'));
-- A retry is a byte-identical body within the dedupe window. Each row holds its body's key on two bucket grids
-- offset by half a bucket, each unique: two deliveries closer than half a bucket share a key on one grid,
-- so ON CONFLICT keeps one row even when they race across a bucket boundary.
ALTER TABLE signals ADD COLUMN dedupe_key_offset text;
CREATE UNIQUE INDEX signals_dedupe_key_offset_unique ON signals (dedupe_key_offset);
-- A CLOSE waits for, and cancels, the unfinished entries of its ticker: find them without a scan.
CREATE INDEX signals_unfinished_ticker_idx ON signals (ticker, seq)
    WHERE status IN ('PENDING', 'ACCEPTED', 'ORDERED');

ALTER TABLE exit_signals DROP CONSTRAINT exit_signals_rule_check;
ALTER TABLE exit_signals ADD CONSTRAINT exit_signals_rule_check
    CHECK (rule IN ('PROFIT_TARGET', 'STOP_LOSS', 'TRAILING_STOP', 'EXPIRATION', 'TIME_STOP', 'MAX_HOLD',
                    'STALE_MARK'));

-- Fees paid on the position's fills (entry and exit), dollars; realized_pnl is net of them.
ALTER TABLE positions ADD COLUMN fees numeric(12, 2) NOT NULL DEFAULT 0 CHECK (fees >= 0);
-- The mark at the close of the session before the one it was last priced in (day P&L of carried positions).
ALTER TABLE positions ADD COLUMN prev_close_mark numeric(12, 4);
ALTER TABLE positions ADD COLUMN prev_close_at timestamptz;
-- A lot split off by a partial close; it shares its parent's entry order.
ALTER TABLE positions ADD COLUMN parent_position_id uuid REFERENCES positions (id);
ALTER TABLE positions DROP CONSTRAINT positions_one_per_entry_order;
CREATE UNIQUE INDEX positions_one_per_entry_order ON positions (entry_order_id) WHERE parent_position_id IS NULL;
