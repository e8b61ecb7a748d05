"""The Arkindex-compatible HTTP API (Falcon 4, WSGI): commands in, projections out.

Entry point: `api.app.create_app(container)`. The route table (api/routes.py) drives both
Falcon's routing and the OpenAPI document (api/openapi.py); the wire contract is
docs/arkindex-api.md.

One package per feature, each with its routes, schemas and resources: api/catalog/ (workers,
versions, configurations, models, runs), api/documents/ (corpora, elements, transcriptions,
classifications, entities, images, provenance), api/integrations/ (feed, SSE, audit, webhooks),
api/users/ (the user, sign-in), api/ui/ (the web UI). What they share stays here: the app, the
edge middleware, errors, auth, the generic operations, pagination, the OpenAPI document, the
command gateway, the base schemas and resources (base_schemas.py, base_resources.py).
"""
