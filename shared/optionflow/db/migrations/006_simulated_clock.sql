-- The simulated clock (OPTIONFLOW_CLOCK_START), kept where every process of the book can read it: the local
-- stack's API and worker processes, and a command run beside them, tell the same time. It stood at
-- `anchor_at` at the wall-clock instant `anchor_wall` and moves on at `speed` (anchor_at while paused); each
-- change re-anchors it. Schedule ticks up to `swept_to` need no sweep: an advance ran them, or a set jumped
-- over them. One row at most; a book on the system clock has none.
CREATE TABLE simulated_clock (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    anchor_at    timestamptz NOT NULL,
    anchor_wall  timestamptz NOT NULL,
    speed        double precision NOT NULL CHECK (speed > 0),
    paused       boolean NOT NULL,
    swept_to     timestamptz NOT NULL,
    changed_by   text NOT NULL
);
