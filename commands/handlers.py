"""One short handler per command: load aggregate(s), call a method, return ids.

Dependencies are injected by parameter name (see commands/bus.py): `uow`, `actor`.
The table at the bottom is this module's part of the registry; commands/__init__.py joins it with
the other handler modules' tables (images, zones, element tree, entities) into COMMAND_HANDLERS.
"""

from __future__ import annotations

from typing import Any

from commands import messages as m
from commands.aliases import (
    MODEL_VERSION,
    TOKEN,
    TRANSCRIPTION,
    USERNAME,
    WORKER_RUN,
    WORKER_SLUG,
    WORKER_VERSION,
)
from commands.bus import Handler
from commands.signing import signature_for as _signature
from commands.unit_of_work import UnitOfWork
from commands.zones import record_zone_child, resolve_zone  # issue 10
from domain.actor import Actor, slugify
from domain.catalog import Model, WorkerConfiguration, configuration_stream, model_stream
from domain.documents import Corpus, Element, Signature, corpus_stream, element_stream
from domain.errors import AlreadyExists, InvalidValue, NotFound, UsernameTaken
from domain.local_process import LocalProcess, default_summary, local_process_stream
from domain.user import User, user_stream
from domain.worker import Worker, WorkerType, worker_stream, worker_type_stream


def register_user(cmd: m.RegisterUser, uow: UnitOfWork) -> dict[str, Any]:
    user_id = uow.new_id()
    user = uow.start(User, user_stream(user_id))
    user.register(user_id, cmd.username, cmd.email, cmd.is_admin)
    # No look-up first: the claim is the check (a taken name refuses the append).
    uow.claim(USERNAME.format(cmd.username.lower()), user.stream_id, taken=_username_taken)
    return {"user_id": user_id}


def _username_taken(owner_stream: str) -> UsernameTaken:
    return UsernameTaken("This username is taken.", existing_id=owner_stream.removeprefix("user-"))


def issue_token(cmd: m.IssueToken, uow: UnitOfWork) -> dict[str, Any]:
    user = uow.get(User, user_stream(cmd.user_id), "No such user.")
    token_id = uow.new_id()
    user.issue_token(token_id, cmd.token_hash, cmd.label)
    uow.claim(TOKEN.format(cmd.token_hash), user.stream_id)
    return {"token_id": token_id}


def revoke_token(cmd: m.RevokeToken, uow: UnitOfWork) -> dict[str, Any]:
    uow.get(User, user_stream(cmd.user_id), "No such user.").revoke_token(cmd.token_id)
    return {"token_id": cmd.token_id}


def _ensure_worker_type(uow: UnitOfWork, text: str) -> str:
    slug = slugify(text)
    if not slug:
        raise InvalidValue("A worker type needs at least one letter or digit.", field="type")
    uow.load(WorkerType, worker_type_stream(slug)).create(uow.new_id(), slug, text.strip())
    return slug


def create_worker(cmd: m.CreateWorker, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    worker, created = get_or_create_worker(
        uow, actor, name=cmd.name, slug=cmd.slug.strip(), type=cmd.type, description=cmd.description,
        repository_url=cmd.repository_url,
    )
    return {"worker_id": worker.worker_id, "created": created}


def get_or_create_worker(
    uow: UnitOfWork, actor: Actor, *, name: str, slug: str, type: str, description: str = "",
    repository_url: str | None = None,
) -> tuple[Worker, bool]:
    """The worker with this slug, or a new one (True): CreateWorker and QuickUserRun."""
    existing_stream = uow.resolve(WORKER_SLUG.format(slug))
    if existing_stream is not None:
        # Get-or-create by slug: the CLI relies on it. Only for workers the caller may use.
        worker = uow.get(Worker, existing_stream, "No such worker.")
        if not worker.can_use(actor):
            raise AlreadyExists("A worker with this slug already exists.", existing_id="", field="slug")
        return worker, False
    type_slug = _ensure_worker_type(uow, type)
    worker_id = uow.new_id()
    worker = uow.start(Worker, worker_stream(worker_id))
    worker.create(
        worker_id=worker_id, name=name, slug=slug, type=type_slug, owner_id=actor.user_id,
        description=description, repository_url=repository_url,
    )
    uow.claim(WORKER_SLUG.format(slug), worker.stream_id)
    return worker, True


def update_worker(cmd: m.UpdateWorker, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    worker = uow.get(Worker, worker_stream(cmd.worker_id), "No such worker.")
    changes = dict(cmd.changes)
    if "type" in changes:
        changes["type"] = _ensure_worker_type(uow, str(changes["type"]))
    worker.update(actor, changes)
    return {"worker_id": cmd.worker_id}


def grant_worker_access(cmd: m.GrantWorkerAccess, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    uow.get(User, user_stream(cmd.user_id), "No such user.", field="user_id")
    uow.get(Worker, worker_stream(cmd.worker_id), "No such worker.").grant_access(actor, cmd.user_id)
    return {"worker_id": cmd.worker_id, "user_id": cmd.user_id}


def create_worker_version(cmd: m.CreateWorkerVersion, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    worker = uow.get(Worker, worker_stream(cmd.worker_id), "No such worker.")
    version_id = uow.new_id()
    worker.create_version(actor, version_id, dict(cmd.fields))
    uow.claim(WORKER_VERSION.format(version_id), worker.stream_id)
    number = worker.versions[version_id].number
    return {"version_id": version_id, "worker_id": cmd.worker_id, "number": number}


def update_worker_version(cmd: m.UpdateWorkerVersion, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    worker = uow.find(Worker, WORKER_VERSION.format(cmd.version_id), "No such worker version.")
    worker.update_version(actor, cmd.version_id, dict(cmd.changes))
    return {"version_id": cmd.version_id, "worker_id": worker.worker_id}


def create_worker_configuration(
    cmd: m.CreateWorkerConfiguration, uow: UnitOfWork, actor: Actor,
) -> dict[str, Any]:
    worker = uow.get(Worker, worker_stream(cmd.worker_id), "No such worker.")
    if not worker.can_manage(actor):
        raise NotFound("No such worker.")
    configuration_id = uow.new_id()
    uow.start(WorkerConfiguration, configuration_stream(configuration_id)).create(
        configuration_id=configuration_id, worker_id=cmd.worker_id, name=cmd.name,
        configuration=dict(cmd.configuration), secret_keys=list(cmd.secret_keys),
    )
    return {"configuration_id": configuration_id, "worker_id": cmd.worker_id}


def create_model(cmd: m.CreateModel, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    model_id = uow.new_id()
    uow.start(Model, model_stream(model_id)).create(
        model_id=model_id, name=cmd.name, owner_id=actor.user_id, description=cmd.description,
    )
    return {"model_id": model_id}


def create_model_version(cmd: m.CreateModelVersion, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    model = uow.get(Model, model_stream(cmd.model_id), "No such model.")
    model_version_id = uow.new_id()
    model.create_version(
        actor, model_version_id=model_version_id, configuration=dict(cmd.configuration), tag=cmd.tag,
    )
    uow.claim(MODEL_VERSION.format(model_version_id), model.stream_id)
    return {"model_version_id": model_version_id, "model_id": cmd.model_id}


def create_user_run(cmd: m.CreateUserRun, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    process_stream = local_process_stream(actor.user_id)
    # The user's local process comes with the worker: one round trip for both reads.
    worker = uow.find(
        Worker, WORKER_VERSION.format(cmd.worker_version_id), "No such worker version.", "worker_version_id",
        along=[(LocalProcess, process_stream)],
    )
    version = worker.usable_version(cmd.worker_version_id, actor)
    if cmd.configuration_id is not None:
        configuration = uow.load(WorkerConfiguration, configuration_stream(cmd.configuration_id))
        if not configuration.exists or configuration.worker_id != worker.worker_id:
            raise NotFound("No such configuration for this worker.", field="configuration_id")
    if cmd.model_version_id is not None:
        model = uow.find(
            Model, MODEL_VERSION.format(cmd.model_version_id), "No such model version.", "model_version_id",
        )
        if not model.can_use(actor):
            raise NotFound("No such model version.", field="model_version_id")
    run_id = uow.new_id()
    process = uow.load(LocalProcess, process_stream)
    process.create_user_run(
        user_id=actor.user_id, run_id=run_id, worker_id=worker.worker_id,
        worker_version_id=cmd.worker_version_id,
        summary=cmd.summary or default_summary(worker.name, version.number, version.revision_url),
        configuration_id=cmd.configuration_id, model_version_id=cmd.model_version_id,
    )
    uow.claim(WORKER_RUN.format(run_id), process.stream_id)
    return {"run_id": run_id}


# --- documents (issue 5): corpora, elements and what workers publish on them ----------------


def _writable_corpus(uow: UnitOfWork, actor: Actor, corpus_id: str, field: str | None) -> Corpus:
    # A corpus the caller may not write to looks like one that does not exist.
    corpus = uow.load(Corpus, corpus_stream(corpus_id))
    if not corpus.exists or not corpus.can_write(actor):
        raise NotFound("No such corpus.", field=field)
    return corpus


def _writable_element(
    uow: UnitOfWork, actor: Actor, element_id: str, field: str | None,
) -> tuple[Element, Corpus]:
    element = uow.get(Element, element_stream(element_id), "No such element.", field)
    corpus = uow.load(Corpus, corpus_stream(element.corpus_id))
    if not corpus.can_write(actor):
        raise NotFound("No such element.", field=field)
    return element, corpus


def create_corpus(cmd: m.CreateCorpus, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    corpus_id = uow.new_id()
    uow.start(Corpus, corpus_stream(corpus_id)).create(
        corpus_id=corpus_id, name=cmd.name, owner_id=actor.user_id, description=cmd.description,
    )
    return {"corpus_id": corpus_id}


def create_element_type(cmd: m.CreateElementType, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    corpus = _writable_corpus(uow, actor, cmd.corpus_id, "corpus")
    type_id = uow.new_id()
    corpus.create_element_type(
        actor, type_id=type_id, slug=cmd.slug, display_name=cmd.display_name, folder=cmd.folder,
        color=cmd.color,
    )
    return {"type_id": type_id, "corpus_id": cmd.corpus_id}


def create_ml_class(cmd: m.CreateMLClass, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    class_id = uow.new_id()
    _writable_corpus(uow, actor, cmd.corpus_id, None).create_ml_class(actor, class_id=class_id, name=cmd.name)
    return {"class_id": class_id, "corpus_id": cmd.corpus_id}


def create_element(cmd: m.CreateElement, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    corpus = _writable_corpus(uow, actor, cmd.corpus_id, "corpus")
    parent = None
    if cmd.parent_id is not None:
        parent, _ = _writable_element(uow, actor, cmd.parent_id, "parent")
        if parent.corpus_id != cmd.corpus_id:
            raise InvalidValue("The parent element is in another corpus.", field="parent")
    # issue 10: the zone, checked against its image (a polygon alone lies on the parent's image)
    image_id, polygon = resolve_zone(uow, cmd.image_id, cmd.polygon, parent)
    element_id = uow.new_id()
    element = uow.start(Element, element_stream(element_id))
    element.create(
        corpus, actor, signature, element_id=element_id, type=cmd.type, name=cmd.name,
        parent_id=cmd.parent_id, polygon=polygon, image_id=image_id, confidence=cmd.confidence,
    )
    if parent is not None and polygon is not None:
        record_zone_child(uow, parent.element_id, cmd.type, polygon, element)
    return {"element_id": element_id}


def _transcribe(uow: UnitOfWork, element: Element, signature: Signature, item: m.TranscriptionItem) -> str:
    transcription_id = uow.new_id()
    element.add_transcription(
        signature, transcription_id=transcription_id, text=item.text, confidence=item.confidence,
        orientation=item.orientation,
    )
    # Transcription entities are created by transcription id (issue 10 B): find its element.
    uow.claim(TRANSCRIPTION.format(transcription_id), element.stream_id)
    return transcription_id


def create_transcription(cmd: m.CreateTranscription, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    element, _ = _writable_element(uow, actor, cmd.element_id, None)
    return {"transcription_ids": [_transcribe(uow, element, signature, cmd.item)]}


def create_transcriptions(cmd: m.CreateTranscriptions, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    # The whole batch's element streams in one query; then each element is cached in the unit.
    uow.load_many(Element, [element_stream(item.element_id) for item in cmd.items])
    ids = []
    for item in cmd.items:
        element, _ = _writable_element(uow, actor, item.element_id, "element_id")
        ids.append(_transcribe(uow, element, signature, item))
    return {"transcription_ids": ids}


def _classify(
    uow: UnitOfWork, element: Element, corpus: Corpus, signature: Signature, item: m.ClassificationItem,
) -> str:
    classification_id = uow.new_id()
    element.add_classification(
        corpus, signature, classification_id=classification_id, ml_class_id=item.ml_class_id,
        confidence=item.confidence, high_confidence=item.high_confidence,
    )
    return classification_id


def create_classification(cmd: m.CreateClassification, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    element, corpus = _writable_element(uow, actor, cmd.element_id, "element")
    return {"classification_ids": [_classify(uow, element, corpus, signature, cmd.item)]}


def create_classifications(cmd: m.CreateClassifications, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    element, corpus = _writable_element(uow, actor, cmd.element_id, "parent")
    return {"classification_ids": [_classify(uow, element, corpus, signature, item) for item in cmd.items]}


def _describe(
    uow: UnitOfWork, element: Element, signature: Signature, type: str, name: str, value: Any,
    entity_id: str | None = None,
) -> str:
    metadata_id = uow.new_id()
    element.add_metadata(
        signature, metadata_id=metadata_id, type=type, name=name, value=value, entity_id=entity_id,
    )
    return metadata_id


def create_metadata(cmd: m.CreateMetaData, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    element, _ = _writable_element(uow, actor, cmd.element_id, None)
    return {"metadata_id": _describe(uow, element, signature, cmd.type, cmd.name, cmd.value, cmd.entity_id)}


def create_metadata_bulk(cmd: m.CreateMetaDataBulk, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    signature = _signature(uow, actor, cmd)
    element, _ = _writable_element(uow, actor, cmd.element_id, None)
    # Metadata the element already has are refused, naming them as the Arkindex CLI parses them.
    element.require_new_metadata([(i.name, i.type, i.value) for i in cmd.items])
    return {"metadata_ids": [_describe(uow, element, signature, i.type, i.name, i.value) for i in cmd.items]}


COMMAND_HANDLERS: dict[type[m.Command], Handler] = {
    m.RegisterUser: register_user,
    m.IssueToken: issue_token,
    m.RevokeToken: revoke_token,
    m.CreateWorker: create_worker,
    m.UpdateWorker: update_worker,
    m.GrantWorkerAccess: grant_worker_access,
    m.CreateWorkerVersion: create_worker_version,
    m.UpdateWorkerVersion: update_worker_version,
    m.CreateWorkerConfiguration: create_worker_configuration,
    m.CreateModel: create_model,
    m.CreateModelVersion: create_model_version,
    m.CreateUserRun: create_user_run,
    # documents (issue 5)
    m.CreateCorpus: create_corpus,
    m.CreateElementType: create_element_type,
    m.CreateMLClass: create_ml_class,
    m.CreateElement: create_element,
    m.CreateTranscription: create_transcription,
    m.CreateTranscriptions: create_transcriptions,
    m.CreateClassification: create_classification,
    m.CreateClassifications: create_classifications,
    m.CreateMetaData: create_metadata,
    m.CreateMetaDataBulk: create_metadata_bulk,
}
