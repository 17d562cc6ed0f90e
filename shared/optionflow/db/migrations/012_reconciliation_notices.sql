-- Expand: a notification when the reconciler first finds a difference between the broker's book and ours
-- (RECONCILIATION_DIFFERENCE). The previous release writes only the kinds it knows, which this check still
-- accepts.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('ENTRY_FILLED', 'POSITION_CLOSED', 'SIGNAL_REJECTED', 'ORDER_ENDED', 'WORKER_FAILING',
                    'STALE_MARKS', 'KILL_SWITCH', 'DAILY_SUMMARY', 'TEST', 'RECONCILIATION_DIFFERENCE'));
