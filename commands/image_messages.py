"""Image commands (issue 10). Plain dataclasses, handled in commands/image_handlers.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from commands.messages import Command, SignedByRun


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


# --- zones: children on their parent's image (issue 10) ----------------------------------------


@dataclass(frozen=True)
class ElementItem:
    name: str
    type: str
    polygon: list[list[float]]
    confidence: float | None = None


@dataclass(frozen=True)
class CreateElements(Command, SignedByRun):
    """Children of a parent with a zone, on its image, appended together or not at all."""

    parent_id: str
    items: tuple[ElementItem, ...]


@dataclass(frozen=True)
class ZoneTranscriptionItem:
    polygon: list[list[float]]
    text: str
    confidence: float | None = None
    orientation: str = "horizontal-lr"
    element_confidence: float | None = None


@dataclass(frozen=True)
class CreateElementTranscriptions(Command, SignedByRun):
    """One transcription per polygon, each on a child of `element_type` with that polygon:
    an existing child with the same type and polygon is reused, otherwise it is created."""

    parent_id: str
    element_type: str
    items: tuple[ZoneTranscriptionItem, ...]


@dataclass(frozen=True)
class UpdateElement(Command):
    """PartialUpdateElement: a subset of type, name, polygon, image, confidence,
    rotation_angle, mirrored."""

    element_id: str
    changes: dict[str, Any] = field(default_factory=dict)
