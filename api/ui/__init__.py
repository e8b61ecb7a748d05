"""The web UI: server-rendered pages and htmx fragments over the same commands and queries
as the API (api/gateway.py, api/reads.py, projections/queries.py). Routes: api/ui/routes.py
(`install`), sessions and CSRF: api/ui/session.py."""
