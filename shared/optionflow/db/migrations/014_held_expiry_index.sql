-- The exit monitor asks on every run which expiries of held positions have come (most runs: none). Without
-- this index that read every open position; under a burst of alerts it ran once per fast-path run.
CREATE INDEX positions_held_expiry_idx ON positions (expiry) WHERE status IN ('OPEN', 'CLOSING');
