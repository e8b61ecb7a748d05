"""HTTP request -> command bus: actor, idempotency key, correlation id, event position."""

from __future__ import annotations

import re
import uuid

import falcon

from api.errors import invalid
from commands.bus import CommandBus, CommandResult
from commands.messages import Command

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
# Keys are scoped per user: two clients that happen to pick the same key never collide.
_KEY_NAMESPACE = uuid.UUID("b3c0f1a2-54d7-4f3e-9a61-0c2d8e7f9b15")


class CommandGateway:
    def __init__(self, bus: CommandBus) -> None:
        self.bus = bus

    def run(self, req: falcon.Request, resp: falcon.Response, command: Command) -> CommandResult:
        """Run `command` as the authenticated caller; set `X-Event-Position` on the response."""
        actor = req.context.identity.actor
        key = req.get_header(IDEMPOTENCY_HEADER)
        command_id = None
        if key is not None:
            if not _KEY_RE.match(key):
                raise invalid([IDEMPOTENCY_HEADER], "Use 1 to 255 printable ASCII characters without spaces.")
            command_id = str(uuid.uuid5(_KEY_NAMESPACE, f"{actor.user_id}\n{key}"))
        result = self.bus.handle(
            command, actor=actor, command_id=command_id, correlation_id=req.context.request_id,
        )
        # Committed: from here on the request must not answer an error (api/after_commit.py).
        resp.context.committed = result
        resp.context.request_body = getattr(req.context, "body", None)
        if result.position is not None:
            resp.set_header("X-Event-Position", str(result.position))
        if result.replayed:
            resp.set_header("Idempotent-Replayed", "true")
        return result
