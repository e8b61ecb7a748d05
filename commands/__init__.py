"""Commands (commands/messages.py), their handlers (one registry) and the bus that runs them."""

from commands.bus import CommandBus, CommandResult
from commands.handlers import COMMAND_HANDLERS

__all__ = ["COMMAND_HANDLERS", "CommandBus", "CommandResult"]
