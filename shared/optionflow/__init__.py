"""OptionFlow: TradingView alerts to options trades.

The domain package shared by every Lambda function (as the DomainLayer) and by the local stack.
"""

__version__ = "0.1.0"
