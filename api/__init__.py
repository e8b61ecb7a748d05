"""The Arkindex-compatible HTTP API (Falcon 4, WSGI): commands in, projections out.

Entry point: `api.app.create_app(container)`. The route table (api/routes.py) drives both
Falcon's routing and the OpenAPI document (api/openapi.py); the wire contract is
docs/arkindex-api.md.
"""
