"""Brokers: where orders are executed. Paper by default; live adapters plug in behind the same shape."""
