"""Use cases. They receive their dependencies (`optionflow.composition.Dependencies`: settings, clock,
market data, calendar, broker, bus, invoker, database) or cursors as arguments and reach for no process
global; pure where they can be."""
