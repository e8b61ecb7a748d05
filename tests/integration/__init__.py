"""Integration tests: a real SQLite file or PostgreSQL, Redis, Celery in-process, the Falcon app
through its testing client."""
