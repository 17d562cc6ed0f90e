"""Who may call what: webhook secrets and API tokens."""
