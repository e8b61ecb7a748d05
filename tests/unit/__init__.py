"""Unit tests: no database server, no Redis, no sockets, no subprocess (pure code, the in-memory store)."""
