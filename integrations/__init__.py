"""Integrations: public integration events, the cursor feed, webhooks, live stream, audit."""
