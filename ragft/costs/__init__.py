"""Costs: prices, the per-session ledger, budget caps, metering of calls, cost projection."""
