-- A signal's decision trail in one row per signal for each stage that writes to it (the decision, the order,
-- the broker's answer), its checks a JSON array in the order they ran, instead of one row per check. The
-- trail was eight rows per filled alert, each with two index entries, a foreign-key check and a speculative
-- insert for ON CONFLICT; it was the largest statement of the pipeline.
CREATE TABLE decision_sets (
    signal_id  uuid NOT NULL REFERENCES signals (id) ON DELETE CASCADE,
    seq        bigint GENERATED ALWAYS AS IDENTITY,  -- the order the sets were written in
    -- [{"check_name": text, "passed": boolean, "detail": text, "inputs": object}, ...], kept as written (json,
    -- not jsonb: the pipeline writes every trail and reads almost none, and json is not taken apart to store)
    checks     json NOT NULL CHECK (json_typeof(checks) = 'array'),
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (signal_id, seq)
);

-- The trail line by line, as "why was this alert rejected?" reads it: the lines the previous release wrote
-- into `decisions` (every trail before this migration, and what that release writes while a deploy runs or
-- after a rollback) first, then each set's checks. A check recorded again (an accepted entry stopped at its
-- order by the kill switch, say) keeps the place of its first line and shows its latest outcome, as the
-- UNIQUE (signal_id, check_name) of `decisions` did. `place` orders a signal's lines.
--
-- Expand only: the previous release still writes and reads `decisions`, which this migration leaves as it
-- was (that release does not see the trails this one writes into decision_sets). A later release, once no
-- deployed code writes `decisions`, can move its rows into decision_sets and drop it.
CREATE VIEW decision_lines AS
SELECT signal_id, check_name, passed, detail, inputs, decided_at, place
FROM (
    SELECT l.*,
           min(l.at) OVER (PARTITION BY l.signal_id, l.check_name) AS place,
           row_number() OVER (PARTITION BY l.signal_id, l.check_name ORDER BY l.at DESC) AS latest
    FROM (
        SELECT d.signal_id, d.check_name, d.passed, d.detail, d.inputs, d.decided_at,
               ARRAY[0, d.id, 0] AS at
        FROM decisions d
        UNION ALL
        SELECT s.signal_id, c.check_name, c.passed, c.detail, COALESCE(c.inputs, '{}'::jsonb), s.decided_at,
               ARRAY[1, s.seq, c.n] AS at
        FROM decision_sets s,
             ROWS FROM (json_to_recordset(s.checks) AS (check_name text, passed boolean, detail text, inputs jsonb))
                 WITH ORDINALITY AS c (check_name, passed, detail, inputs, n)
    ) l
) numbered
WHERE latest = 1;

-- The offset key is NULL for every alert that names its alert_id (only an alert without one is deduplicated
-- by its body, on two grids). NULLs never conflict, so an index of the keys that are set enforces the same
-- uniqueness, and the insert of such a signal and each of its status updates (three a filled alert, none of
-- them heap-only: status is in the partial indexes) no longer add an entry for a NULL. INSERT … ON CONFLICT
-- DO NOTHING, which names no index, checks it as it did the one it replaces (015's), and the lookup after a
-- duplicate (`signal_dedupe_index_key(dedupe_key_offset) = …`, never true for a NULL) can still use it.
-- Like 015's, it is built while inserts wait; it holds only the keys that are set.
CREATE UNIQUE INDEX signals_dedupe_offset_set ON signals (signal_dedupe_index_key(dedupe_key_offset))
    WHERE dedupe_key_offset IS NOT NULL;
DROP INDEX signals_dedupe_offset_unique;
