"""API request allocation (rolling 24 hours per org) and token-endpoint rate limits."""
