"""Market data: the port and its adapters. It reads optionflow.pricing (and the calendar); pricing never
imports market."""
