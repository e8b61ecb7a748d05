"""The integrations' HTTP edge: event feed, live stream (SSE), audit trail, webhooks (routes.py:
their routes). What they serve is built by the top-level `integrations` package."""
