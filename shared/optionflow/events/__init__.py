"""Pipeline events: wake-ups for the next stage. The database stays the source of truth."""
