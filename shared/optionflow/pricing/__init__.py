"""Option pricing: European (Black-Scholes-Merton) and American prices, Greeks, implied volatility, OCC symbols
and roots, strikes, expiries and settlement, and whether an alert's contract can be a listed one."""
