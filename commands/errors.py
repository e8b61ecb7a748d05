"""Errors of the command path (the domain's own errors are in domain/errors.py)."""

from __future__ import annotations

from domain.errors import DomainError


class CommandConflict(DomainError):
    """Concurrent writers kept winning: the bounded retries were used up."""

    code = "conflict"


class IdempotencyKeyReused(DomainError):
    """The same command id was sent with a different payload."""

    code = "idempotency_key_reused"
