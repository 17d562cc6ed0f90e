"""Market data: the port (`ports.MarketData`) and its adapters — the deterministic simulator
(`simulated`) and the real providers (`tradier`, `alpaca`, `massive`, sharing `remote`), chosen by
MARKET_DATA in `provider`. It reads optionflow.pricing (and the calendar); pricing never imports market."""
