-- Which workers an operator has paused, and who did it and why. No row means running: a fresh database
-- runs every worker, and a pause is one upsert. Scheduled and fast-path runs of a paused worker do nothing;
-- a manual trigger still runs it.
CREATE TABLE worker_controls (
    worker      text PRIMARY KEY,
    paused      boolean NOT NULL,
    changed_at  timestamptz NOT NULL,
    changed_by  text NOT NULL,
    reason      text
);
