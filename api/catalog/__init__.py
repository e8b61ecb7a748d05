"""The catalog and the user worker runs: workers, worker types, versions, named configurations,
models, runs (routes.py: their routes; schemas.py, resources.py: what they accept, answer and do)."""
