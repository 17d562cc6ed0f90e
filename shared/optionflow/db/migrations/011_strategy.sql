-- The strategy engine: sizing methods, portfolio caps, Greeks exits and entry filters, set globally (the
-- 'default' row) and per ticker (a row named by the ticker; NULL there means "as the default row says").
-- On the default row NULL turns that cap, rule or check off. Percentages are percent (50 = 50 %).
CREATE TABLE strategy_settings (
    name                     text PRIMARY KEY CHECK (name = 'default' OR name ~ '^[A-Z][A-Z0-9.]{0,9}$'),
    -- sizing
    sizing_method            text CHECK (sizing_method IN ('FIXED', 'DOLLAR_RISK', 'VOLATILITY', 'EQUITY_FRACTION')),
    fixed_contracts          integer CHECK (fixed_contracts >= 1),
    dollar_risk              numeric(14, 2) CHECK (dollar_risk > 0),
    vol_measure              text CHECK (vol_measure IN ('ATR', 'IV')),
    vol_target_pct           numeric(6, 2) CHECK (vol_target_pct > 0),
    equity_fraction_pct      numeric(6, 2) CHECK (equity_fraction_pct > 0 AND equity_fraction_pct <= 100),
    account_equity           numeric(14, 2) CHECK (account_equity > 0),
    -- portfolio caps on entries (book after the fill); overall ones are read from the default row only
    max_heat_pct             numeric(6, 2) CHECK (max_heat_pct >= 0),
    max_delta_shares         numeric(14, 2) CHECK (max_delta_shares >= 0),
    max_delta_dollars        numeric(14, 2) CHECK (max_delta_dollars >= 0),
    max_gamma                numeric(14, 4) CHECK (max_gamma >= 0),
    max_vega                 numeric(14, 2) CHECK (max_vega >= 0),
    max_theta                numeric(14, 2) CHECK (max_theta >= 0),
    max_ticker_delta_shares  numeric(14, 2) CHECK (max_ticker_delta_shares >= 0),
    max_ticker_delta_dollars numeric(14, 2) CHECK (max_ticker_delta_dollars >= 0),
    max_ticker_gamma         numeric(14, 4) CHECK (max_ticker_gamma >= 0),
    max_ticker_vega          numeric(14, 2) CHECK (max_ticker_vega >= 0),
    max_ticker_theta         numeric(14, 2) CHECK (max_ticker_theta >= 0),
    max_ticker_premium_pct   numeric(6, 2) CHECK (max_ticker_premium_pct >= 0),
    max_expiry_premium_pct   numeric(6, 2) CHECK (max_expiry_premium_pct >= 0),
    -- Greeks exits
    greek_exits_on           boolean,
    exit_delta_itm           numeric(4, 3) CHECK (exit_delta_itm > 0 AND exit_delta_itm <= 1),
    exit_delta_otm           numeric(4, 3) CHECK (exit_delta_otm > 0 AND exit_delta_otm < 1),
    exit_theta_pct           numeric(6, 2) CHECK (exit_theta_pct > 0),
    exit_iv_crush_pct        numeric(6, 2) CHECK (exit_iv_crush_pct > 0 AND exit_iv_crush_pct <= 100),
    -- the contract a trade plan picks when the alert's plan does not say (over STRIKE_SELECTION and the
    -- DTE window of the deployment's settings)
    plan_strike_delta        numeric(4, 3) CHECK (plan_strike_delta > 0 AND plan_strike_delta < 1),
    plan_strike_steps        integer CHECK (plan_strike_steps >= -20 AND plan_strike_steps <= 20),
    plan_dte                 integer CHECK (plan_dte >= 0 AND plan_dte <= 365),
    CONSTRAINT strategy_settings_one_strike_rule CHECK (plan_strike_delta IS NULL OR plan_strike_steps IS NULL),
    -- a ticker's own exit rules over the global exit_rules (ticker rows only; NULL: the global rule)
    profit_target_pct        numeric(6, 2) CHECK (profit_target_pct > 0),
    stop_loss_pct            numeric(6, 2) CHECK (stop_loss_pct > 0 AND stop_loss_pct <= 100),
    trailing_stop_pct        numeric(6, 2) CHECK (trailing_stop_pct > 0 AND trailing_stop_pct <= 100),
    time_stop_minutes        integer CHECK (time_stop_minutes >= 0 AND time_stop_minutes <= 390),
    -- entry filters
    mtf_on                   boolean,
    mtf_timeframes           text[] CHECK (mtf_timeframes <@ ARRAY['5m', '15m', '1h', '1d']::text[]),
    mtf_ema_fast             integer CHECK (mtf_ema_fast >= 1),
    mtf_ema_slow             integer CHECK (mtf_ema_slow >= 2),
    context_on               boolean,
    max_spread_pct           numeric(6, 2) CHECK (max_spread_pct > 0),
    max_price_move_pct       numeric(6, 2) CHECK (max_price_move_pct > 0),
    min_minutes_to_close     integer CHECK (min_minutes_to_close >= 0 AND min_minutes_to_close <= 390),
    min_realized_vol_pct     numeric(6, 2) CHECK (min_realized_vol_pct >= 0),
    max_realized_vol_pct     numeric(6, 2) CHECK (max_realized_vol_pct > 0),
    min_iv_pct               numeric(6, 2) CHECK (min_iv_pct >= 0),
    max_iv_pct               numeric(6, 2) CHECK (max_iv_pct > 0),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
-- Today's behaviour: the risk limits' budget per trade, no caps, no Greeks exits, no filters.
INSERT INTO strategy_settings (name, sizing_method, vol_measure, vol_target_pct, account_equity, greek_exits_on,
                               mtf_on, mtf_timeframes, mtf_ema_fast, mtf_ema_slow, context_on)
VALUES ('default', 'DOLLAR_RISK', 'IV', 25, 100000, false, false, '{15m,1h}', 9, 21, false);

-- Expand two CHECK lists by one value each, keeping whatever values other migrations have added to them
-- (the list is read from the catalogue, not restated here, so migrations of parallel features compose).
CREATE FUNCTION pg_temp.check_list_add(tbl text, con text, value text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO STRICT def FROM pg_constraint WHERE conname = con;
    IF position(quote_literal(value) IN def) > 0 THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, con);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', tbl, con,
                   replace(def, 'ARRAY[', 'ARRAY[' || quote_literal(value) || '::text, '));
END
$$;
SELECT pg_temp.check_list_add('settings_changes', 'settings_changes_what_check', 'strategy_settings');

-- What an entry was bought with, one row per entry order, written with the order: its worst fill and
-- Greeks (per share) for the portfolio caps while it works, the entry IV and delta the Greeks exits compare
-- against, and the trade plan in force (alert plan over ticker settings over global), so a later settings
-- change never rewrites an open trade. A position finds it by its entry_order_id.
CREATE TABLE entry_plans (
    order_id      uuid PRIMARY KEY REFERENCES orders (id),
    signal_id     uuid NOT NULL REFERENCES signals (id),
    ticker        text NOT NULL,
    expiry        date NOT NULL,
    quantity      integer NOT NULL CHECK (quantity > 0),
    premium       numeric(12, 4) NOT NULL CHECK (premium >= 0),  -- dollars per share, the worst fill
    multiplier    integer NOT NULL DEFAULT 100 CHECK (multiplier > 0),
    underlying    numeric(14, 4) NOT NULL,
    iv            double precision,
    delta         double precision,
    gamma         double precision,
    theta         double precision,  -- dollars per share per calendar day
    vega          double precision,  -- dollars per share per IV point
    plan          jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL
);
CREATE INDEX entry_plans_ticker_idx ON entry_plans (ticker);

-- The Greeks exit rules.
SELECT pg_temp.check_list_add('exit_signals', 'exit_signals_rule_check', rule)
FROM unnest(ARRAY['DELTA_ITM', 'DELTA_OTM', 'THETA_DECAY', 'IV_CRUSH']) AS rule;
