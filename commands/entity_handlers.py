"""Handlers of the transcription entity commands (issue 10 B), registered in COMMAND_HANDLERS."""

from __future__ import annotations

from typing import Any

from commands import entity_messages as em
from commands.aliases import TRANSCRIPTION
from commands.bus import Handler
from commands.messages import Command
from commands.signing import signature_for
from commands.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.documents import Corpus, Element, corpus_stream
from domain.errors import InvalidValue, NotFound


def create_entity_type(cmd: em.CreateEntityType, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    corpus = uow.load(Corpus, corpus_stream(cmd.corpus_id))
    if not corpus.exists or not corpus.can_write(actor):
        raise NotFound("No such corpus.", field="corpus")
    type_id = uow.new_id()
    corpus.create_entity_type(actor, type_id=type_id, name=cmd.name, color=cmd.color)
    return {"type_id": type_id}


def create_transcription_entities(
    cmd: em.CreateTranscriptionEntities, uow: UnitOfWork, actor: Actor,
) -> dict[str, Any]:
    signature = signature_for(uow, actor, cmd)
    element = uow.find(Element, TRANSCRIPTION.format(cmd.transcription_id), "No such transcription.")
    corpus = uow.load(Corpus, corpus_stream(element.corpus_id))
    if not corpus.can_write(actor):
        raise NotFound("No such transcription.")
    keys = [(item.type_id, item.offset, item.length) for item in cmd.items]
    if len(set(keys)) != len(keys):
        raise InvalidValue("The same entity is listed twice.", field="transcription_entities")
    ids = []
    for item in cmd.items:
        entity_id = uow.new_id()
        element.add_transcription_entity(
            corpus, signature, transcription_id=cmd.transcription_id, entity_id=entity_id,
            type_id=item.type_id, offset=item.offset, length=item.length, confidence=item.confidence,
        )
        ids.append(entity_id)
    return {"entity_ids": ids}


ENTITY_HANDLERS: dict[type[Command], Handler] = {
    em.CreateEntityType: create_entity_type,
    em.CreateTranscriptionEntities: create_transcription_entities,
}
