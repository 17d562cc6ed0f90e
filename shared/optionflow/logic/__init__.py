"""Use cases. They take cursors, ports and clocks as arguments; pure where they can be."""
