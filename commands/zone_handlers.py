"""Handlers of the zone commands (issue 10): CreateElements and CreateElementTranscriptions
(children on their parent's image, published in bulk by image workers) and PartialUpdateElement.

Each request is one unit of work: every child and transcription of a batch is appended in one
transaction, or nothing is (a bad polygon anywhere refuses the whole batch).
"""

from __future__ import annotations

from typing import Any

from commands import image_messages as im
from commands.aliases import TRANSCRIPTION
from commands.bus import Handler
from commands.handlers import _writable_element
from commands.messages import Command
from commands.signing import signature_for as _signature
from commands.unit_of_work import UnitOfWork
from commands.zones import find_zone_child, record_zone_child, resolve_zone
from domain.actor import Actor
from domain.documents import Corpus, Element, Signature, element_stream
from domain.errors import DomainError, InvalidValue
from domain.image import Image, image_stream, normalize_polygon


def _parent_image(uow: UnitOfWork, parent: Element) -> Image:
    if parent.image_id is None:
        raise InvalidValue(
            "The parent element has no zone: children created in bulk lie on their parent's image.",
            field="parent",
        )
    return uow.get(Image, image_stream(parent.image_id), "No such image.", "parent")


def _item_polygon(image: Image, polygon: object, index: int, collection: str) -> list[list[int]]:
    try:
        return normalize_polygon(polygon, image.width, image.height)
    except InvalidValue as exc:
        # Which item of the batch: the caller fixes that one and sends the batch again.
        raise InvalidValue(f"{collection}[{index}]: {exc.message}", field=collection) from None


def _create_child(
    uow: UnitOfWork, parent: Element, corpus: Corpus, actor: Actor, signature: Signature, *, type: str,
    name: str, polygon: list[list[int]], confidence: float | None, index: int, collection: str,
    reused: bool = False,
) -> Element:
    element_id = uow.new_id()
    child = uow.load(Element, element_stream(element_id))
    try:
        child.create(
            corpus, actor, signature, element_id=element_id, type=type, name=name,
            parent_id=parent.element_id, polygon=polygon, image_id=parent.image_id, confidence=confidence,
        )
    except DomainError as exc:
        raise InvalidValue(f"{collection}[{index}]: {exc.message}", field=collection) from None
    record_zone_child(uow, parent.element_id, type, polygon, child, reused=reused)
    return child


def create_elements(cmd: im.CreateElements, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd.worker_run_id)
    parent, corpus = _writable_element(uow, actor, cmd.parent_id, None)
    image = _parent_image(uow, parent)
    ids = []
    for index, item in enumerate(cmd.items):
        polygon = _item_polygon(image, item.polygon, index, "elements")
        child = _create_child(
            uow, parent, corpus, actor, signature, type=item.type, name=item.name, polygon=polygon,
            confidence=item.confidence, index=index, collection="elements",
        )
        ids.append(child.element_id)
    return {"element_ids": ids}


def create_element_transcriptions(
    cmd: im.CreateElementTranscriptions, uow: UnitOfWork, actor: Actor,
) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd.worker_run_id)
    parent, corpus = _writable_element(uow, actor, cmd.parent_id, None)
    if cmd.element_type not in corpus.types:
        raise InvalidValue(f"Unknown element type {cmd.element_type!r} in this corpus.", field="element_type")
    image = _parent_image(uow, parent)
    results = []
    for index, item in enumerate(cmd.items):
        polygon = _item_polygon(image, item.polygon, index, "transcriptions")
        existing = find_zone_child(uow, parent.element_id, cmd.element_type, polygon)
        if existing is not None:
            child = uow.get(Element, element_stream(existing), "No such element.")
        else:
            # New children are named by their position in the request, as Arkindex does.
            child = _create_child(
                uow, parent, corpus, actor, signature, type=cmd.element_type, name=str(index + 1),
                polygon=polygon, confidence=item.element_confidence, index=index, collection="transcriptions",
                reused=True,
            )
        transcription_id = uow.new_id()
        try:
            child.add_transcription(
                signature, transcription_id=transcription_id, text=item.text, confidence=item.confidence,
                orientation=item.orientation,
            )
        except DomainError as exc:
            raise InvalidValue(f"transcriptions[{index}]: {exc.message}", field="transcriptions") from None
        # Transcription entities are created by transcription id (issue 10 B): find its element.
        uow.claim(TRANSCRIPTION.format(transcription_id), child.stream_id)
        results.append({"id": transcription_id, "element_id": child.element_id, "created": existing is None})
    return {"transcriptions": results}


def update_element(cmd: im.UpdateElement, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    element, corpus = _writable_element(uow, actor, cmd.element_id, None)
    changes = dict(cmd.changes)
    if "polygon" in changes or "image_id" in changes:
        # A new zone is checked against its (new or current) image, like CreateElement's.
        image_id = changes.get("image_id", element.image_id)
        polygon = changes.get("polygon")
        if polygon is None and image_id == element.image_id:
            polygon = element.polygon
        changes["image_id"], changes["polygon"] = resolve_zone(uow, image_id, polygon, None)
    element.update(corpus, actor, changes)
    return {"element_id": cmd.element_id}


ZONE_HANDLERS: dict[type[Command], Handler] = {
    im.CreateElements: create_elements,
    im.CreateElementTranscriptions: create_element_transcriptions,
    im.UpdateElement: update_element,
}
