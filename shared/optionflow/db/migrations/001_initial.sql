-- OptionFlow initial schema. Money is NUMERIC (dollars), times are timestamptz (UTC),
-- every status column has a CHECK that lists exactly the values the code writes.

CREATE TABLE signals (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY,  -- arrival order: first alert, first decided
    received_at     timestamptz NOT NULL DEFAULT now(),
    dedupe_key      text NOT NULL,
    source          text NOT NULL DEFAULT 'tradingview',
    ticker          text NOT NULL CHECK (ticker ~ '^[A-Z][A-Z0-9.]{0,9}$'),
    action          text NOT NULL CHECK (action IN ('BUY', 'SELL', 'CLOSE')),
    direction       text CHECK (direction IN ('CALL', 'PUT')),
    timeframe       text,
    price           numeric(14, 4) CHECK (price > 0),
    strike          numeric(12, 3) CHECK (strike > 0),
    expiry          date,
    quantity        integer CHECK (quantity > 0),
    alert_id        text,
    alert_time      timestamptz,
    raw_payload     jsonb NOT NULL,
    body_sha256     text NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'ORDERED', 'EXECUTED', 'FAILED')),
    rejection_reasons text[] NOT NULL DEFAULT '{}',
    processed_at    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT signals_dedupe_key_unique UNIQUE (dedupe_key),
    CONSTRAINT signals_buy_has_direction CHECK (action <> 'BUY' OR direction IS NOT NULL)
);
CREATE INDEX signals_pending_idx ON signals (seq) WHERE status IN ('PENDING', 'ACCEPTED');
CREATE INDEX signals_received_idx ON signals (received_at DESC, id DESC);
CREATE INDEX signals_ticker_idx ON signals (ticker, received_at DESC);

-- The per-signal trail of checks: "why was this alert rejected?" is one query.
CREATE TABLE decisions (
    id          bigserial PRIMARY KEY,
    signal_id   uuid NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
    check_name  text NOT NULL,
    passed      boolean NOT NULL,
    detail      text NOT NULL,
    inputs      jsonb NOT NULL DEFAULT '{}',
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT decisions_one_per_check UNIQUE (signal_id, check_name)
);

CREATE TABLE positions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_id          uuid REFERENCES signals (id),
    entry_order_id     uuid NOT NULL,
    ticker             text NOT NULL,
    option_symbol      text NOT NULL,
    option_type        text NOT NULL CHECK (option_type IN ('CALL', 'PUT')),
    strike             numeric(12, 3) NOT NULL CHECK (strike > 0),
    expiry             date NOT NULL,
    quantity           integer NOT NULL CHECK (quantity > 0),
    multiplier         integer NOT NULL DEFAULT 100 CHECK (multiplier > 0),
    entry_price        numeric(12, 4) NOT NULL CHECK (entry_price >= 0),
    cost_basis         numeric(14, 2) NOT NULL,
    status             text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSING', 'CLOSED')),
    opened_at          timestamptz NOT NULL,
    closed_at          timestamptz,
    exit_price         numeric(12, 4),
    exit_reason        text,
    realized_pnl       numeric(14, 2),
    mark               numeric(12, 4),
    bid                numeric(12, 4),
    ask                numeric(12, 4),
    underlying_price   numeric(14, 4),
    implied_vol        numeric(8, 5),
    delta              numeric(10, 6),
    gamma              numeric(10, 6),
    theta              numeric(12, 6),
    vega               numeric(12, 6),
    unrealized_pnl     numeric(14, 2),
    high_water_mark    numeric(12, 4),
    priced_at          timestamptz,
    price_stale        boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT positions_one_per_entry_order UNIQUE (entry_order_id),
    CONSTRAINT positions_closed_has_pnl CHECK (status <> 'CLOSED' OR (realized_pnl IS NOT NULL AND closed_at IS NOT NULL))
);
CREATE INDEX positions_open_idx ON positions (ticker) WHERE status IN ('OPEN', 'CLOSING');
CREATE INDEX positions_opened_idx ON positions (opened_at DESC, id DESC);
CREATE INDEX positions_closed_idx ON positions (closed_at) WHERE status = 'CLOSED';

CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_id        uuid REFERENCES signals (id),
    position_id      uuid REFERENCES positions (id),
    purpose          text NOT NULL CHECK (purpose IN ('ENTRY', 'EXIT')),
    ticker           text NOT NULL,
    option_symbol    text NOT NULL,
    option_type      text NOT NULL CHECK (option_type IN ('CALL', 'PUT')),
    strike           numeric(12, 3) NOT NULL CHECK (strike > 0),
    expiry           date NOT NULL,
    side             text NOT NULL CHECK (side IN ('BUY_TO_OPEN', 'SELL_TO_CLOSE')),
    quantity         integer NOT NULL CHECK (quantity > 0),
    order_type       text NOT NULL DEFAULT 'MARKET' CHECK (order_type IN ('MARKET', 'LIMIT')),
    limit_price      numeric(12, 4) CHECK (limit_price > 0),
    time_in_force    text NOT NULL DEFAULT 'DAY' CHECK (time_in_force IN ('DAY', 'GTC')),
    mode             text NOT NULL CHECK (mode IN ('PAPER', 'LIVE')),
    status           text NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'SUBMITTED', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')),
    reason           text,
    broker_order_id  text,
    filled_quantity  integer NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
    avg_fill_price   numeric(12, 4),
    created_at       timestamptz NOT NULL DEFAULT now(),
    submitted_at     timestamptz,
    filled_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_entry_has_signal CHECK (purpose <> 'ENTRY' OR signal_id IS NOT NULL),
    CONSTRAINT orders_exit_has_position CHECK (purpose <> 'EXIT' OR position_id IS NOT NULL),
    CONSTRAINT orders_side_matches_purpose CHECK ((purpose = 'ENTRY') = (side = 'BUY_TO_OPEN')),
    CONSTRAINT orders_fill_within_quantity CHECK (filled_quantity <= quantity)
);
-- Exactly one entry order per signal, and at most one live exit order per position.
CREATE UNIQUE INDEX orders_one_entry_per_signal ON orders (signal_id) WHERE purpose = 'ENTRY';
CREATE UNIQUE INDEX orders_one_exit_per_position ON orders (position_id)
    WHERE purpose = 'EXIT' AND status IN ('PENDING', 'SUBMITTED', 'FILLED');
CREATE INDEX orders_working_idx ON orders (created_at) WHERE status IN ('PENDING', 'SUBMITTED');
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);

ALTER TABLE positions ADD CONSTRAINT positions_entry_order_fk FOREIGN KEY (entry_order_id) REFERENCES orders (id);

CREATE TABLE trades (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id       uuid NOT NULL REFERENCES orders (id),
    position_id    uuid REFERENCES positions (id),
    fill_seq       integer NOT NULL DEFAULT 1,
    ticker         text NOT NULL,
    option_symbol  text NOT NULL,
    side           text NOT NULL CHECK (side IN ('BUY_TO_OPEN', 'SELL_TO_CLOSE')),
    quantity       integer NOT NULL CHECK (quantity > 0),
    price          numeric(12, 4) NOT NULL CHECK (price >= 0),
    fees           numeric(10, 2) NOT NULL DEFAULT 0,
    mode           text NOT NULL CHECK (mode IN ('PAPER', 'LIVE')),
    executed_at    timestamptz NOT NULL,
    CONSTRAINT trades_one_per_fill UNIQUE (order_id, fill_seq)
);
CREATE INDEX trades_executed_idx ON trades (executed_at DESC, id DESC);

CREATE TABLE exit_signals (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    position_id         uuid NOT NULL REFERENCES positions (id),
    rule                text NOT NULL CHECK (rule IN ('PROFIT_TARGET', 'STOP_LOSS', 'TRAILING_STOP',
                                                      'EXPIRATION', 'TIME_STOP', 'MAX_HOLD')),
    priority            text NOT NULL CHECK (priority IN ('CRITICAL', 'HIGH', 'MEDIUM')),
    details             text NOT NULL,
    recommended_action  text NOT NULL,
    urgency             text NOT NULL,
    metrics             jsonb NOT NULL DEFAULT '{}',
    exit_order_id       uuid REFERENCES orders (id),
    status              text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'RESOLVED')),
    first_seen_at       timestamptz NOT NULL,
    last_seen_at        timestamptz NOT NULL,
    resolved_at         timestamptz
);
CREATE UNIQUE INDEX exit_signals_one_active_per_rule ON exit_signals (position_id, rule) WHERE status = 'ACTIVE';
CREATE INDEX exit_signals_seen_idx ON exit_signals (last_seen_at DESC, id DESC);

CREATE TABLE risk_limits (
    name                     text PRIMARY KEY,
    max_open_positions       integer NOT NULL CHECK (max_open_positions >= 0),
    max_daily_loss           numeric(14, 2) NOT NULL CHECK (max_daily_loss >= 0),
    max_positions_per_ticker integer NOT NULL CHECK (max_positions_per_ticker >= 0),
    max_contracts_per_order  integer NOT NULL CHECK (max_contracts_per_order >= 1),
    risk_per_trade           numeric(14, 2) NOT NULL CHECK (risk_per_trade > 0),
    kill_switch              boolean NOT NULL DEFAULT false,
    updated_at               timestamptz NOT NULL DEFAULT now()
);
INSERT INTO risk_limits (name, max_open_positions, max_daily_loss, max_positions_per_ticker,
                         max_contracts_per_order, risk_per_trade)
VALUES ('default', 20, 1000.00, 5, 10, 500.00);

CREATE TABLE exit_rules (
    name                    text PRIMARY KEY,
    profit_target_pct       numeric(6, 2) CHECK (profit_target_pct > 0),
    stop_loss_pct           numeric(6, 2) CHECK (stop_loss_pct > 0 AND stop_loss_pct <= 100),
    trailing_stop_pct       numeric(6, 2) CHECK (trailing_stop_pct > 0 AND trailing_stop_pct <= 100),
    min_dte                 integer CHECK (min_dte >= 0),
    max_hold_days           integer CHECK (max_hold_days > 0),
    close_minutes_before_close integer CHECK (close_minutes_before_close >= 0),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO exit_rules (name, profit_target_pct, stop_loss_pct, trailing_stop_pct, min_dte, max_hold_days,
                        close_minutes_before_close)
VALUES ('default', 50, 50, NULL, 1, 5, NULL);

-- Last run of each worker, for GET /health.
CREATE TABLE worker_runs (
    worker          text PRIMARY KEY,
    trigger         text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    processed       integer NOT NULL DEFAULT 0,
    succeeded       boolean,
    error           text,
    runs_total      bigint NOT NULL DEFAULT 0
);
