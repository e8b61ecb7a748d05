"""The objects workers publish: `Corpus` (stream `corpus-<uuid>`, with its element types
and ML classes) and `Element` (stream `element-<uuid>`, with its transcriptions,
classifications and metadata).

Every object records its creator: the user, and the worker run that signed it when there
is one ("every object is created by a user or signed by a worker run").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.element_tree import ElementCycle, ElementParentAlreadyExists
from domain.entities import EntityKey, MetaDataAlreadyExist, TranscriptionEntityAlreadyExists
from domain.errors import AlreadyExists, ClassificationAlreadyExists, InvalidValue, NotFound, PermissionDenied
from domain.events import (
    ClassificationCreated,
    CorpusCreated,
    ElementCreated,
    ElementParentAdded,
    ElementTypeCreated,
    ElementUpdated,
    EntityTypeCreated,
    MetaDataCreated,
    MLClassCreated,
    TranscriptionCreated,
    TranscriptionEntityCreated,
)

ORIENTATIONS = ("horizontal-lr", "horizontal-rl", "vertical-lr", "vertical-rl")
#: what PartialUpdateElement may change (issue 10)
ELEMENT_UPDATABLE = ("type", "name", "polygon", "image_id", "confidence", "rotation_angle", "mirrored")
METADATA_TYPES = ("text", "markdown", "date", "location", "reference", "numeric", "url")


def corpus_stream(corpus_id: str) -> str:
    return f"corpus-{corpus_id}"


def element_stream(element_id: str) -> str:
    return f"element-{element_id}"


@dataclass(frozen=True)
class Signature:
    """Who created an object: a user, and the worker run that signed it if any."""

    user_id: str
    worker_run_id: str | None = None


def _check_confidence(value: float | None, field: str = "confidence") -> None:
    if value is not None and not (0.0 <= float(value) <= 1.0):
        raise InvalidValue("Confidence must be between 0 and 1.", field=field)


class Corpus(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.corpus_id = ""
        self.name = ""
        self.owner_id = ""
        self.types: dict[str, str] = {}  # slug -> type id
        self.entity_types: dict[str, str] = {}  # name -> entity type id (issue 10 B)
        self.classes: dict[str, str] = {}  # name -> ml class id

    def can_write(self, actor: Actor) -> bool:
        return actor.is_admin or actor.user_id == self.owner_id

    def require_writer(self, actor: Actor) -> None:
        if not self.exists or not self.can_write(actor):
            raise NotFound("No such corpus.", field="corpus")

    def create(self, *, corpus_id: str, name: str, owner_id: str, description: str = "") -> None:
        if self.exists:
            return
        if not name.strip():
            raise InvalidValue("A corpus needs a name.", field="name")
        self._record(CorpusCreated(
            corpus_id=corpus_id, name=name, owner_id=owner_id, description=description,
        ))

    def create_element_type(
        self, actor: Actor, *, type_id: str, slug: str, display_name: str, folder: bool = False,
        color: str = "28b62c",
    ) -> None:
        self.require_writer(actor)
        if not slug.strip():
            raise InvalidValue("An element type needs a slug.", field="slug")
        if slug in self.types:
            raise AlreadyExists(
                "An element type with this slug already exists in this corpus.",
                existing_id=self.types[slug], field="slug",
            )
        self._record(ElementTypeCreated(
            corpus_id=self.corpus_id, type_id=type_id, slug=slug, display_name=display_name or slug,
            folder=folder, color=color,
        ))

    def create_ml_class(self, actor: Actor, *, class_id: str, name: str) -> None:
        self.require_writer(actor)
        if not name.strip():
            raise InvalidValue("An ML class needs a name.", field="name")
        if name in self.classes:
            raise AlreadyExists(
                "An ML class with this name already exists in this corpus.",
                existing_id=self.classes[name], field="name",
            )
        self._record(MLClassCreated(corpus_id=self.corpus_id, class_id=class_id, name=name))

    def create_entity_type(self, actor: Actor, *, type_id: str, name: str, color: str = "ff0000") -> None:
        self.require_writer(actor)
        if not name.strip():
            raise InvalidValue("An entity type needs a name.", field="name")
        if name in self.entity_types:
            raise AlreadyExists(
                "An entity type with this name already exists in this corpus.",
                existing_id=self.entity_types[name], field="name",
            )
        self._record(EntityTypeCreated(corpus_id=self.corpus_id, type_id=type_id, name=name, color=color))

    def when_EntityTypeCreated(self, e: EntityTypeCreated) -> None:
        self.entity_types[e.name] = e.type_id

    def when_CorpusCreated(self, e: CorpusCreated) -> None:
        self.corpus_id, self.name, self.owner_id = e.corpus_id, e.name, e.owner_id

    def when_ElementTypeCreated(self, e: ElementTypeCreated) -> None:
        self.types[e.slug] = e.type_id

    def when_MLClassCreated(self, e: MLClassCreated) -> None:
        self.classes[e.name] = e.class_id


class Element(Aggregate):
    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.element_id = ""
        self.corpus_id = ""
        self.type = ""
        # issue 10: the zone (an image and a polygon on it); children created in bulk lie on it
        self.image_id: str | None = None
        self.polygon: list[list[int]] | None = None
        # (ml class id, worker run id) pairs: one classification per class per run
        self.classified: dict[tuple[str, str | None], str] = {}
        #: parent element ids (issue 10 B: an element may have several, see domain/element_tree.py)
        self.parents: set[str] = set()
        #: transcription id -> length of its text, where entities are located (issue 10 B)
        self.transcription_lengths: dict[str, int] = {}
        self.entities: set[EntityKey] = set()
        #: (name, type, value) of the metadata it has: CreateMetaDataBulk refuses a repeat
        self.metadata_keys: set[tuple[str, str, Any]] = set()

    def create(
        self, corpus: Corpus, actor: Actor, signature: Signature, *, element_id: str, type: str, name: str,
        parent_id: str | None = None, polygon: list[list[int]] | None = None, image_id: str | None = None,
        confidence: float | None = None,
    ) -> None:
        if self.exists:
            return
        corpus.require_writer(actor)
        if type not in corpus.types:
            raise InvalidValue(f"Unknown element type {type!r} in this corpus.", field="type")
        if not name.strip():
            raise InvalidValue("An element needs a name.", field="name")
        _check_confidence(confidence)
        self._record(ElementCreated(
            element_id=element_id, corpus_id=corpus.corpus_id, type=type, name=name, parent_id=parent_id,
            polygon=polygon, image_id=image_id, confidence=confidence,
            user_id=signature.user_id, worker_run_id=signature.worker_run_id,
        ))

    def update(self, corpus: Corpus, actor: Actor, changes: dict[str, Any]) -> None:
        """PartialUpdateElement (issue 10). `polygon` and `image_id`, when given, are already
        checked against the image (commands/zones.py); the rest is checked here."""
        self._require_exists()
        corpus.require_writer(actor)
        unknown = set(changes) - set(ELEMENT_UPDATABLE)
        if unknown:
            raise InvalidValue(f"Cannot change {', '.join(sorted(unknown))}.")
        if "type" in changes and changes["type"] not in corpus.types:
            raise InvalidValue(f"Unknown element type {changes['type']!r} in this corpus.", field="type")
        if "name" in changes and not str(changes["name"]).strip():
            raise InvalidValue("An element needs a name.", field="name")
        _check_confidence(changes.get("confidence"))
        angle = changes.get("rotation_angle", 0)
        if isinstance(angle, bool) or not isinstance(angle, int) or not 0 <= angle <= 359:
            raise InvalidValue("rotation_angle is an integer from 0 to 359.", field="rotation_angle")
        if not isinstance(changes.get("mirrored", False), bool):
            raise InvalidValue("mirrored is true or false.", field="mirrored")
        if changes:
            self._record(ElementUpdated(
                element_id=self.element_id, changes=dict(changes), user_id=actor.user_id,
            ))

    def add_transcription(
        self, signature: Signature, *, transcription_id: str, text: str, confidence: float | None,
        orientation: str = "horizontal-lr",
    ) -> None:
        self._require_exists()
        if not text:
            raise InvalidValue("A transcription needs a text.", field="text")
        _check_confidence(confidence)
        if orientation not in ORIENTATIONS:
            raise InvalidValue(f"orientation must be one of {', '.join(ORIENTATIONS)}.", field="orientation")
        self._record(TranscriptionCreated(
            element_id=self.element_id, transcription_id=transcription_id, text=text, confidence=confidence,
            orientation=orientation, user_id=signature.user_id, worker_run_id=signature.worker_run_id,
        ))

    def add_classification(
        self, corpus: Corpus, signature: Signature, *, classification_id: str, ml_class_id: str,
        confidence: float, high_confidence: bool = False,
    ) -> None:
        self._require_exists()
        if ml_class_id not in corpus.classes.values():
            raise InvalidValue("Unknown ML class in this corpus.", field="ml_class")
        _check_confidence(confidence)
        existing = self.classified.get((ml_class_id, signature.worker_run_id))
        if existing is not None:
            raise ClassificationAlreadyExists(
                "This element already has a classification with this class by this worker run.",
                existing_id=existing, field="ml_class",
            )
        self._record(ClassificationCreated(
            element_id=self.element_id, classification_id=classification_id, ml_class_id=ml_class_id,
            confidence=confidence, high_confidence=high_confidence,
            user_id=signature.user_id, worker_run_id=signature.worker_run_id,
        ))

    def add_metadata(
        self, signature: Signature, *, metadata_id: str, type: str, name: str, value: Any,
        entity_id: str | None = None,
    ) -> None:
        self._require_exists()
        if type not in METADATA_TYPES:
            raise InvalidValue(f"type must be one of {', '.join(METADATA_TYPES)}.", field="type")
        if not name.strip():
            raise InvalidValue("A metadata needs a name.", field="name")
        self._record(MetaDataCreated(
            element_id=self.element_id, metadata_id=metadata_id, type=type, name=name, value=value,
            entity_id=entity_id, user_id=signature.user_id, worker_run_id=signature.worker_run_id,
        ))

    def add_parent(self, parent: Element, actor_id: str, parent_ancestors: set[str]) -> None:
        """Link this element under `parent`; `parent_ancestors` are the parent's ancestors, read
        by the caller from their streams, to refuse a link that would close a cycle."""
        self._require_exists()
        parent._require_exists()
        if parent.corpus_id != self.corpus_id:
            raise InvalidValue("The parent element is in another corpus.", field="parent")
        if parent.element_id in self.parents:
            raise ElementParentAlreadyExists(parent.element_id, self.element_id)
        if parent.element_id == self.element_id or self.element_id in parent_ancestors:
            raise ElementCycle(
                f"{parent.element_id} is a descendant of {self.element_id}: the link would make a cycle.",
                field="parent",
            )
        self._record(ElementParentAdded(
            child_id=self.element_id, parent_id=parent.element_id, corpus_id=self.corpus_id, user_id=actor_id,
        ))

    def add_transcription_entity(
        self, corpus: Corpus, signature: Signature, *, transcription_id: str, entity_id: str, type_id: str,
        offset: int, length: int, confidence: float | None = None,
    ) -> None:
        self._require_exists()
        text_length = self.transcription_lengths.get(transcription_id)
        if text_length is None:
            raise NotFound("No such transcription.")
        if type_id not in corpus.entity_types.values():
            raise InvalidValue("Unknown entity type in this corpus.", field="type_id")
        if offset < 0 or length < 1 or offset + length > text_length:
            raise InvalidValue(
                f"The entity [{offset}, {offset + length}) is outside the transcription's text "
                f"({text_length} characters).", field="offset",
            )
        _check_confidence(confidence)
        key = (transcription_id, type_id, offset, length, signature.worker_run_id)
        if key in self.entities:
            raise TranscriptionEntityAlreadyExists(
                "This transcription already has an entity of this type at this offset and length "
                "by this worker run.", existing_id="",
            )
        self._record(TranscriptionEntityCreated(
            element_id=self.element_id, transcription_id=transcription_id, entity_id=entity_id,
            type_id=type_id, offset=offset, length=length, confidence=confidence, user_id=signature.user_id,
            worker_run_id=signature.worker_run_id,
        ))

    def require_new_metadata(self, items: list[tuple[str, str, Any]]) -> None:
        """Refuse metadata the element already has (same name, type and value), all at once."""
        existing = [item for item in items if item in self.metadata_keys]
        if existing:
            raise MetaDataAlreadyExist(existing)
        if len(set(items)) != len(items):
            raise InvalidValue("The same metadata is listed twice.", field="metadata_list")

    def when_TranscriptionEntityCreated(self, e: TranscriptionEntityCreated) -> None:
        self.entities.add((e.transcription_id, e.type_id, e.offset, e.length, e.worker_run_id))

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound("No such element.")

    def when_ElementCreated(self, e: ElementCreated) -> None:
        self.element_id, self.corpus_id, self.type = e.element_id, e.corpus_id, e.type
        self.image_id = e.image_id
        if e.parent_id is not None:
            self.parents.add(e.parent_id)
        self.polygon = None if e.polygon is None else [[int(x), int(y)] for x, y in e.polygon]

    def when_ElementUpdated(self, e: ElementUpdated) -> None:
        self.type = e.changes.get("type", self.type)
        self.image_id = e.changes.get("image_id", self.image_id)
        if "polygon" in e.changes:
            self.polygon = e.changes["polygon"]

    def when_ElementParentAdded(self, e: ElementParentAdded) -> None:
        self.parents.add(e.parent_id)

    def when_TranscriptionCreated(self, e: TranscriptionCreated) -> None:
        # Entities are located in the text (issue 10 B): keep its length.
        self.transcription_lengths[e.transcription_id] = len(e.text)

    def when_ClassificationCreated(self, e: ClassificationCreated) -> None:
        self.classified[(e.ml_class_id, e.worker_run_id)] = e.classification_id

    def when_MetaDataCreated(self, e: MetaDataCreated) -> None:
        self.metadata_keys.add((e.name, e.type, _hashable(e.value)))


def _hashable(value: Any) -> Any:
    # Metadata values are strings or numbers (validated at the edge); anything else by its repr.
    return value if isinstance(value, str | int | float) else repr(value)


def check_signing_run(run_owner_id: str, actor: Actor) -> None:
    """User worker runs are personal: only their creator may sign with them."""
    if run_owner_id != actor.user_id:
        raise PermissionDenied("This worker run belongs to another user: only its creator may use it.")
