"""The users: the authenticated user, password sign-in, its password store and throttle, and their
tables (routes.py: their routes)."""
