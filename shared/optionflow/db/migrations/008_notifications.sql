-- Notifications: an outbox. The code that makes an event (a fill, a close, a rejection, a failing worker,
-- a kill-switch change) writes a row here in the same transaction as the event itself, so neither exists
-- without the other. The notifier worker routes each row to the configured channels (one delivery per
-- channel), sends, and marks each delivery; a failed delivery retries with backoff until it is DEAD.
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('ENTRY_FILLED', 'POSITION_CLOSED', 'SIGNAL_REJECTED',
                    'ORDER_ENDED', 'WORKER_FAILING', 'STALE_MARKS', 'KILL_SWITCH', 'DAILY_SUMMARY', 'TEST')),
    severity    text NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),
    facts       jsonb NOT NULL,  -- the numbers the message shows (money in dollars)
    -- once-only events (a session's daily summary): a second insert with the same key is a no-op
    dedupe_key  text UNIQUE,
    only_channel text,  -- a test message goes to this channel alone
    created_at  timestamptz NOT NULL,
    routed_at   timestamptz  -- when its deliveries were made; NULL: the notifier has not routed it yet
);
CREATE INDEX notifications_unrouted_idx ON notifications (id) WHERE routed_at IS NULL;

CREATE TABLE notification_deliveries (
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         text NOT NULL,
    status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'DEAD')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,  -- PENDING: due from then; SENDING: the claim's lease runs out then
    last_error      text,
    sent_at         timestamptz,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE status IN ('PENDING', 'SENDING');
CREATE INDEX notification_deliveries_dead_idx ON notification_deliveries (updated_at DESC) WHERE status = 'DEAD';

-- Which notifications each channel gets: a minimum severity and the kinds switched off. A channel without
-- a row gets everything. Changed only through the settings API, which records each change in
-- settings_changes (what = 'notifications', name = the channel).
CREATE TABLE notification_channel_settings (
    channel      text PRIMARY KEY,
    min_severity text NOT NULL DEFAULT 'INFO' CHECK (min_severity IN ('INFO', 'WARNING', 'CRITICAL')),
    muted        text[] NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL
);

-- Expand: the audit trail also records notification settings (the previous release writes only the two
-- values it knows, which this check still accepts).
ALTER TABLE settings_changes DROP CONSTRAINT settings_changes_what_check;
ALTER TABLE settings_changes ADD CONSTRAINT settings_changes_what_check
    CHECK (what IN ('risk_limits', 'exit_rules', 'notifications'));
