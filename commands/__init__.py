"""Commands (commands/messages.py), their handlers (one registry) and the bus that runs them."""

from commands import handlers
from commands.bus import CommandBus, CommandResult
from commands.element_tree_handlers import TREE_HANDLERS  # issue 10 B: element tree
from commands.entity_handlers import ENTITY_HANDLERS  # issue 10 B: transcription entities
from commands.image_handlers import IMAGE_HANDLERS  # issue 10: images
from commands.quick_run_handlers import QUICK_RUN_HANDLERS  # issue 14: one-step run
from commands.retraction_handlers import RETRACTION_HANDLERS  # issue 14: retract a run
from commands.sign_in_handlers import SIGN_IN_HANDLERS  # issue 10 B: passwords
from commands.zone_handlers import ZONE_HANDLERS  # issue 10: children on their parent's image

#: the whole registry: command class -> handler
COMMAND_HANDLERS = {
    **handlers.COMMAND_HANDLERS, **IMAGE_HANDLERS, **ZONE_HANDLERS, **TREE_HANDLERS,
    **ENTITY_HANDLERS, **SIGN_IN_HANDLERS, **QUICK_RUN_HANDLERS,
    **RETRACTION_HANDLERS,
}

__all__ = ["COMMAND_HANDLERS", "CommandBus", "CommandResult"]
