"""Option pricing: Black-Scholes-Merton, Greeks, implied volatility, OCC symbols, strikes and expiries."""
