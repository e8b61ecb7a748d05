"""The worker-runs domain: aggregates, their events and named errors.

Pure Python on purpose: nothing here imports falcon, sqlalchemy or celery, so the rules
(one user worker run per worker version, runs are personal, ...) can be tested and reasoned
about without any infrastructure.
"""
