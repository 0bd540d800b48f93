"""Redis adapters for cross-replica state (optional: ``settings.redis_url``)."""
