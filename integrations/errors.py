"""Named errors of the integrations; api/errors.py maps them to HTTP."""

from __future__ import annotations


class IntegrationError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class IntegrationNotFound(IntegrationError):
    """The object does not exist, or the caller may not see it (the same answer: 404)."""


class WebhookUrlRefused(IntegrationError):
    """The target URL is not allowed (scheme, or a private address without the operator's consent)."""


class InvalidWebhookSecret(IntegrationError):
    """A caller-chosen signing secret that is not `whsec_` + base64 (a validation error)."""


class InvalidSubscriptionState(IntegrationError):
    """The operation does not apply to the subscription's state (e.g. resuming a disabled one)."""


class ReplayAheadOfCheckpoint(IntegrationError):
    """A replay from past the subscription's checkpoint (it would skip undelivered events)."""
