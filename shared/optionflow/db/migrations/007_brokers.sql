-- Broker orders (Alpaca, Tradier) and the reconciler's record of where the broker's book and ours differ.
-- Expand only: the previous release's queries keep working (its statuses are a subset of the new CHECK).

-- SUBMITTING: our intent is committed before the broker is called; PARTIALLY_FILLED: working, some filled.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED',
                      'REJECTED', 'EXPIRED'));
-- Our id at the broker (Alpaca client_order_id, Tradier tag): the order's id, or '<id>-r<n>' after an Alpaca
-- replace made the n-th re-priced order. Unique: one broker order per client id.
ALTER TABLE orders ADD COLUMN client_order_id text;
CREATE UNIQUE INDEX orders_client_order_id_unique ON orders (client_order_id);
ALTER TABLE orders ADD COLUMN broker text CHECK (broker IN ('alpaca', 'tradier'));
-- The broker last said this order can still fill (also after we ended it: the router then cancels it there).
ALTER TABLE orders ADD COLUMN broker_open boolean NOT NULL DEFAULT false;
ALTER TABLE orders ADD COLUMN reprices integer NOT NULL DEFAULT 0 CHECK (reprices >= 0);
ALTER TABLE orders ADD COLUMN priced_at timestamptz;  -- when its limit price was last set
ALTER TABLE orders ADD COLUMN cancel_requested_at timestamptz;
CREATE INDEX orders_broker_open_idx ON orders (updated_at) WHERE broker_open;

DROP INDEX orders_one_exit_per_position;
CREATE UNIQUE INDEX orders_one_exit_per_position ON orders (position_id)
    WHERE purpose = 'EXIT' AND status IN ('PENDING', 'SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED', 'FILLED');
DROP INDEX orders_working_idx;
CREATE INDEX orders_working_idx ON orders (created_at)
    WHERE status IN ('PENDING', 'SUBMITTING', 'SUBMITTED', 'PARTIALLY_FILLED');

-- What the reconciler found different between the broker and our book. It never rewrites the book: a person
-- decides. One OPEN row per (broker, kind, subject); a difference no longer seen becomes RESOLVED.
CREATE TABLE reconciliation_differences (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    broker           text NOT NULL CHECK (broker IN ('alpaca', 'tradier')),
    kind             text NOT NULL CHECK (kind IN ('MANUAL_CLOSE', 'UNKNOWN_POSITION', 'EXERCISE_OR_ASSIGNMENT',
                                                   'QUANTITY_MISMATCH', 'UNKNOWN_ORDER', 'FILLED_AFTER_CANCEL')),
    subject          text NOT NULL,  -- the OCC symbol, share ticker or broker order id it is about
    broker_quantity  integer,
    book_quantity    integer,
    order_id         uuid REFERENCES orders (id),
    broker_order_id  text,
    detail           text NOT NULL,
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    resolved_at      timestamptz
);
CREATE UNIQUE INDEX reconciliation_differences_one_open ON reconciliation_differences (broker, kind, subject)
    WHERE status = 'OPEN';
CREATE INDEX reconciliation_differences_seen_idx ON reconciliation_differences (last_seen_at DESC, id DESC);
