"""Market facts: the NYSE calendar and the market-data port with its adapters."""
