"""Image commands (issue 10). Plain dataclasses, handled in commands/image_handlers.py."""

from __future__ import annotations

from dataclasses import dataclass

from commands.messages import Command


@dataclass(frozen=True)
class CreateIIIFURL(Command):
    """Register a IIIF image by URL. Without `width` and `height` the server's info.json is
    read (status `checked`); with them nothing is fetched (status `unchecked`)."""

    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class UpdateImageStatus(Command):
    image_id: str
    status: str
