"""Handlers of the zone commands (issue 10): CreateElements and CreateElementTranscriptions
(children on their parent's image, published in bulk by image workers) and PartialUpdateElement.

Each request is one unit of work: every child and transcription of a batch is appended in one
transaction, or nothing is (a bad polygon anywhere refuses the whole batch).
"""

from __future__ import annotations

from typing import Any

from commands import image_messages as im
from commands import messages as m
from commands.bus import Handler
from commands.handlers import _transcribe, _writable_element
from commands.messages import Command
from commands.signing import signature_for as _signature
from commands.unit_of_work import UnitOfWork
from commands.zones import claimed_zone_child, find_zone_children, record_zone_child, resolve_zone
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
    child = uow.start(Element, element_stream(element_id))
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
    signature = _signature(uow, actor, cmd)
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
    signature = _signature(uow, actor, cmd)
    parent, corpus = _writable_element(uow, actor, cmd.parent_id, None)
    if cmd.element_type not in corpus.types:
        raise InvalidValue(f"Unknown element type {cmd.element_type!r} in this corpus.", field="element_type")
    image = _parent_image(uow, parent)
    # Every polygon checked first (all or nothing), then every recorded child found at once.
    polygons = [
        _item_polygon(image, item.polygon, index, "transcriptions") for index, item in enumerate(cmd.items)
    ]
    recorded = find_zone_children(uow, parent.element_id, cmd.element_type, polygons)
    results = []
    for index, (item, polygon) in enumerate(zip(cmd.items, polygons, strict=True)):
        found = recorded[index] or claimed_zone_child(uow, parent.element_id, cmd.element_type, polygon)
        existing = None if found is None else uow.get(Element, element_stream(found), "No such element.")
        stale = existing is not None and (existing.type, existing.polygon) != (cmd.element_type, polygon)
        if existing is not None and not stale:
            child = existing
        else:
            # New children are named by their position in the request, as Arkindex does. The
            # lookup is claimed for them, unless a child moved away by PartialUpdateElement still
            # holds it (aliases are permanent): then this child is simply not found by later calls.
            child = _create_child(
                uow, parent, corpus, actor, signature, type=cmd.element_type, name=str(index + 1),
                polygon=polygon, confidence=item.element_confidence, index=index, collection="transcriptions",
                reused=not stale,
            )
        # Through the handlers' _transcribe: the transcription is findable by id (its alias), which
        # CreateTranscriptionEntity needs.
        transcription = m.TranscriptionItem(
            element_id=child.element_id, text=item.text, confidence=item.confidence,
            orientation=item.orientation,
        )
        try:
            transcription_id = _transcribe(uow, child, signature, transcription)
        except DomainError as exc:
            raise InvalidValue(f"transcriptions[{index}]: {exc.message}", field="transcriptions") from None
        created = child is not existing
        results.append({"id": transcription_id, "element_id": child.element_id, "created": created})
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
    if element.polygon is not None and ("polygon" in changes or "type" in changes):
        # Findable by its new type and polygon under each parent (CreateElementTranscriptions).
        for parent_id in sorted(element.parents):
            record_zone_child(uow, parent_id, element.type, element.polygon, element)
    return {"element_id": cmd.element_id}


ZONE_HANDLERS: dict[type[Command], Handler] = {
    im.CreateElements: create_elements,
    im.CreateElementTranscriptions: create_element_transcriptions,
    im.UpdateElement: update_element,
}
