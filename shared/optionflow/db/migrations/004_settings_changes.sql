-- Every change to the risk limits or exit rules (the kill switch included): who, when, what it was, what
-- it became, and why. Written in the same transaction as the change itself, so neither exists without the
-- other.
CREATE TABLE settings_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at  timestamptz NOT NULL,
    actor       text NOT NULL CHECK (actor <> ''),
    what        text NOT NULL CHECK (what IN ('risk_limits', 'exit_rules')),
    name        text NOT NULL DEFAULT 'default',
    before      jsonb NOT NULL,  -- the changed columns' old values
    after       jsonb NOT NULL,  -- the same columns' new values
    reason      text
);
CREATE INDEX settings_changes_newest_idx ON settings_changes (changed_at DESC, id DESC);

-- Append-only: an audit trail that can be edited proves nothing. Row triggers do not fire on TRUNCATE, so
-- wiping a whole test or demo database stays possible; editing or deleting single entries does not.
CREATE FUNCTION settings_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'settings_changes is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER settings_changes_append_only
    BEFORE UPDATE OR DELETE ON settings_changes
    FOR EACH ROW EXECUTE FUNCTION settings_changes_append_only();
