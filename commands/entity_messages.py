"""Commands of the transcription entities (issue 10 B)."""

from __future__ import annotations

from dataclasses import dataclass

from commands.messages import Command, SignedByRun


@dataclass(frozen=True)
class CreateEntityType(Command):
    corpus_id: str
    name: str
    color: str = "ff0000"


@dataclass(frozen=True)
class EntityItem:
    type_id: str
    offset: int
    length: int
    confidence: float | None = None


@dataclass(frozen=True)
class CreateTranscriptionEntities(Command, SignedByRun):
    """One or many entities on one transcription (CreateTranscriptionEntity sends one)."""

    transcription_id: str
    items: tuple[EntityItem, ...]
