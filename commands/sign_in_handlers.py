"""Handlers of the sign-in commands (issue 10 B), registered in COMMAND_HANDLERS."""

from __future__ import annotations

from typing import Any

from commands import sign_in_messages as sm
from commands.bus import Handler
from commands.messages import Command
from commands.unit_of_work import UnitOfWork
from domain.user import User, user_stream


def record_password_set(cmd: sm.RecordPasswordSet, uow: UnitOfWork) -> dict[str, Any]:
    uow.get(User, user_stream(cmd.user_id), "No such user.").password_set()
    return {"user_id": cmd.user_id}


SIGN_IN_HANDLERS: dict[type[Command], Handler] = {
    sm.RecordPasswordSet: record_password_set,
}
