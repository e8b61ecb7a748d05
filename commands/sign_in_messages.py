"""Commands of password sign-in (issue 10 B)."""

from __future__ import annotations

from dataclasses import dataclass

from commands.messages import Command


@dataclass(frozen=True)
class RecordPasswordSet(Command):
    """Record in the user's stream that their password changed (who, when: the audit trail)."""

    user_id: str
