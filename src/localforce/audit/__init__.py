"""Audit: the API usage log, connected-app usage, and read models of LoginHistory and the
setup audit trail for the CLI."""
