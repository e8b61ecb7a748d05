"""Every command of commands/messages.py through the real bus and store, on SQLite and PostgreSQL
(and, collected in tests/unit/test_commands_in_memory.py, on the in-memory store).

Happy paths check the events actually appended (types, streams, payloads), not only the
handler's answer; error paths check the named domain error and that nothing was written.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from commands import COMMAND_HANDLERS
from commands import messages as m
from commands.bus import CommandBus, CommandResult
from commands.errors import IdempotencyKeyReused
from domain.actor import SYSTEM, Actor
from domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UsernameTaken,
    UserRunAlreadyExists,
    VersionNotEditable,
    VersionNotUsable,
    WorkerVersionAlreadyExists,
)
from domain.local_process import local_process_id
from eventstore import EventStore, InMemoryEventStore, StoredEvent
from worker_runs.bootstrap import Container, new_uuid, utc_now

# --- helpers -------------------------------------------------------------------------------------


def user(bus: CommandBus, username: str, *, admin: bool = False) -> Actor:
    result = bus.handle(m.RegisterUser(username, f"{username}@example.org", admin))
    return Actor(result.data["user_id"], admin)


def worker(
    bus: CommandBus, actor: Actor, slug: str = "ocr", *, name: str = "OCR", type: str = "My OCR",
) -> str:
    return bus.handle(m.CreateWorker(name=name, slug=slug, type=type), actor=actor).data["worker_id"]


def version(bus: CommandBus, actor: Actor, worker_id: str, **fields: Any) -> str:
    return bus.handle(m.CreateWorkerVersion(worker_id, fields), actor=actor).data["version_id"]


def run(bus: CommandBus, actor: Actor, version_id: str, **kwargs: Any) -> str:
    return bus.handle(m.CreateUserRun(version_id, **kwargs), actor=actor).data["run_id"]


def events_since(store: EventStore, position: int) -> list[StoredEvent]:
    return store.read_all(position, limit=10_000)


def types_since(store: EventStore, position: int) -> list[str]:
    return [e.event_type for e in events_since(store, position)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """tests/unit/test_commands_in_memory.py runs these tests on the in-memory store too: handlers
    need no database."""
    return request.param


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest) -> EventStore:
    if backend == "memory":
        return InMemoryEventStore()
    container: Container = request.getfixturevalue("container")
    return container.store


@pytest.fixture
def bus(backend: str, store: EventStore, request: pytest.FixtureRequest) -> CommandBus:
    if backend == "memory":
        return CommandBus(store, COMMAND_HANDLERS, clock=utc_now, ids=new_uuid)
    container: Container = request.getfixturevalue("container")
    return container.bus


@pytest.fixture
def alice(bus: CommandBus) -> Actor:
    return user(bus, "alice")


@pytest.fixture
def bob(bus: CommandBus) -> Actor:
    return user(bus, "bob")


# --- users and tokens ----------------------------------------------------------------------------


def test_register_user(bus: CommandBus, store: EventStore) -> None:
    result = bus.handle(m.RegisterUser("alice", "a@x", is_admin=True))

    user_id = result.data["user_id"]
    (event,) = store.read_stream(f"user-{user_id}")
    assert event.event_type == "UserRegistered"
    assert event.payload == {"user_id": user_id, "username": "alice", "email": "a@x", "is_admin": True}
    assert (event.actor_type, event.actor_id) == ("system", SYSTEM.user_id)
    assert result.position == event.global_position == store.head()
    assert result.replayed is False
    assert store.resolve("username:alice") == f"user-{user_id}"


@pytest.mark.parametrize("again", ["alice", "Alice", "ALICE"])
def test_register_duplicate_username_names_the_existing_user(bus: CommandBus, store: EventStore,
                                                              again: str) -> None:
    first = bus.handle(m.RegisterUser("alice")).data["user_id"]
    head = store.head()

    with pytest.raises(UsernameTaken) as err:
        bus.handle(m.RegisterUser(again, "other@x"))

    assert err.value.existing_id == first
    assert err.value.field == "username"
    assert store.head() == head


def test_register_blank_username_is_invalid(bus: CommandBus, store: EventStore) -> None:
    with pytest.raises(InvalidValue) as err:
        bus.handle(m.RegisterUser("   "))
    assert err.value.field == "username"
    assert store.head() == 0


def test_issue_and_revoke_token(bus: CommandBus, store: EventStore, alice: Actor) -> None:
    token_id = bus.handle(m.IssueToken(alice.user_id, "f" * 64, "laptop")).data["token_id"]
    assert store.resolve("token:" + "f" * 64) == f"user-{alice.user_id}"

    head = store.head()
    bus.handle(m.RevokeToken(alice.user_id, token_id))
    assert types_since(store, head) == ["TokenRevoked"]
    issued, revoked = store.read_stream(f"user-{alice.user_id}")[1:]
    assert issued.payload == {"user_id": alice.user_id, "token_id": token_id, "token_hash": "f" * 64,
                              "label": "laptop"}
    assert revoked.payload == {"user_id": alice.user_id, "token_id": token_id}

    # Revoking again (or an unknown token) decides nothing: no event.
    head = store.head()
    bus.handle(m.RevokeToken(alice.user_id, token_id))
    bus.handle(m.RevokeToken(alice.user_id, "never-issued"))
    assert store.head() == head


def test_token_commands_for_an_unknown_user_are_not_found(bus: CommandBus, store: EventStore) -> None:
    with pytest.raises(NotFound):
        bus.handle(m.IssueToken("no-such-user", "a" * 64))
    with pytest.raises(NotFound):
        bus.handle(m.RevokeToken("no-such-user", "t"))
    assert store.head() == 0


# --- workers and worker types ------------------------------------------------------------------


def test_create_worker_creates_its_type_on_the_fly(bus: CommandBus, store: EventStore,
                                                   alice: Actor) -> None:
    head = store.head()
    result = bus.handle(
        m.CreateWorker(name="OCR", slug="ocr", type="My OCR", description="d", repository_url="https://g/x"),
        actor=alice,
    )

    assert result.data == {"worker_id": result.data["worker_id"], "created": True}
    worker_id = result.data["worker_id"]
    (type_event,) = store.read_stream("worker-type-my-ocr")
    assert type_event.event_type == "WorkerTypeCreated"
    assert type_event.payload["slug"] == "my-ocr"
    assert type_event.payload["display_name"] == "My OCR"
    (created,) = store.read_stream(f"worker-{worker_id}")
    assert created.payload == {
        "worker_id": worker_id, "name": "OCR", "slug": "ocr", "type": "my-ocr", "owner_id": alice.user_id,
        "description": "d", "repository_url": "https://g/x",
    }
    assert sorted(types_since(store, head)) == ["WorkerCreated", "WorkerTypeCreated"]
    # One transaction: both events carry the same command metadata.
    assert len({e.causation_id for e in events_since(store, head)}) == 1
    assert store.resolve("worker-slug:ocr") == f"worker-{worker_id}"

    # The same type named differently ("my  ocr!") is the same slug: no second type event.
    head = store.head()
    worker(bus, alice, "ocr-2", type="my  ocr!")
    assert types_since(store, head) == ["WorkerCreated"]
    assert len(store.read_stream("worker-type-my-ocr")) == 1


def test_create_worker_with_a_type_without_letters_is_invalid(bus: CommandBus, store: EventStore,
                                                              alice: Actor) -> None:
    head = store.head()
    with pytest.raises(InvalidValue) as err:
        bus.handle(m.CreateWorker(name="W", slug="w", type="!!!"), actor=alice)
    assert err.value.field == "type"
    with pytest.raises(InvalidValue):
        bus.handle(m.CreateWorker(name="  ", slug="w", type="ocr"), actor=alice)
    assert store.head() == head


def test_create_worker_is_get_or_create_by_slug(bus: CommandBus, store: EventStore, alice: Actor,
                                                bob: Actor) -> None:
    worker_id = worker(bus, alice, "ocr")
    head = store.head()

    again = bus.handle(m.CreateWorker(name="Other name", slug="ocr", type="other"), actor=alice)
    assert again.data == {"worker_id": worker_id, "created": False}

    # Bob may not use Alice's worker: the slug is taken, and its id is not disclosed.
    with pytest.raises(AlreadyExists) as err:
        bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="My OCR"), actor=bob)
    assert err.value.field == "slug"
    assert err.value.existing_id == ""

    # Once granted, Bob gets the existing worker too.
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    head = store.head()
    assert bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="x"), actor=bob).data == {
        "worker_id": worker_id, "created": False,
    }
    assert store.head() == head
    assert store.read_stream("worker-type-other") == []


def test_update_worker(bus: CommandBus, store: EventStore, alice: Actor, bob: Actor) -> None:
    worker_id = worker(bus, alice)
    head = store.head()

    bus.handle(m.UpdateWorker(worker_id, {"name": "New", "type": "Layout Analysis", "description": "x"}),
               actor=alice)

    assert sorted(types_since(store, head)) == ["WorkerTypeCreated", "WorkerUpdated"]
    updated = store.read_stream(f"worker-{worker_id}")[-1]
    assert updated.payload["changes"] == {"name": "New", "type": "layout-analysis", "description": "x"}

    head = store.head()
    bus.handle(m.UpdateWorker(worker_id, {"name": "New"}), actor=alice)  # no change: no event
    assert store.head() == head

    with pytest.raises(InvalidValue):
        bus.handle(m.UpdateWorker(worker_id, {"owner_id": bob.user_id}), actor=alice)
    with pytest.raises(InvalidValue):
        bus.handle(m.UpdateWorker(worker_id, {"name": " "}), actor=alice)
    with pytest.raises(NotFound):  # Bob cannot even see it
        bus.handle(m.UpdateWorker(worker_id, {"name": "Bob's"}), actor=bob)
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    head = store.head()
    with pytest.raises(PermissionDenied):  # Bob sees it but may not change it
        bus.handle(m.UpdateWorker(worker_id, {"name": "Bob's"}), actor=bob)
    with pytest.raises(NotFound):
        bus.handle(m.UpdateWorker("no-such-worker", {"name": "x"}), actor=alice)
    assert store.head() == head


def test_grant_worker_access_lets_the_grantee_create_a_run(bus: CommandBus, store: EventStore,
                                                           alice: Actor, bob: Actor) -> None:
    worker_id = worker(bus, alice)
    version_id = version(bus, alice, worker_id)

    with pytest.raises(NotFound):  # private: Bob cannot use it yet
        run(bus, bob, version_id)

    head = store.head()
    result = bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    assert result.data == {"worker_id": worker_id, "user_id": bob.user_id}
    (granted,) = events_since(store, head)
    assert granted.payload == {"worker_id": worker_id, "user_id": bob.user_id, "granted_by": alice.user_id}

    head = store.head()
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)  # already granted
    bus.handle(m.GrantWorkerAccess(worker_id, alice.user_id), actor=alice)  # the owner
    assert store.head() == head

    run_id = run(bus, bob, version_id)
    (created,) = store.read_stream(f"local-process-{bob.user_id}")
    assert created.payload["run_id"] == run_id
    assert created.payload["user_id"] == bob.user_id


def test_grant_worker_access_errors(bus: CommandBus, store: EventStore, alice: Actor, bob: Actor) -> None:
    carol = user(bus, "carol")
    worker_id = worker(bus, alice)
    head = store.head()

    with pytest.raises(NotFound) as err:
        bus.handle(m.GrantWorkerAccess(worker_id, "no-such-user"), actor=alice)
    assert err.value.field == "user_id"
    with pytest.raises(NotFound):
        bus.handle(m.GrantWorkerAccess("no-such-worker", bob.user_id), actor=alice)
    with pytest.raises(NotFound):  # a stranger cannot grant, nor learn the worker exists
        bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=bob)
    assert store.head() == head
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    with pytest.raises(PermissionDenied):  # a grantee cannot pass access on
        bus.handle(m.GrantWorkerAccess(worker_id, carol.user_id), actor=bob)


# --- worker versions -----------------------------------------------------------------------------


def test_create_worker_version_numbers_and_optional_fields(bus: CommandBus, store: EventStore,
                                                           alice: Actor) -> None:
    worker_id = worker(bus, alice)

    numbers = [bus.handle(m.CreateWorkerVersion(worker_id), actor=alice).data["number"] for _ in range(3)]

    assert numbers == [1, 2, 3]
    first = store.read_stream(f"worker-{worker_id}")[1]
    assert first.payload == {
        "worker_id": worker_id, "version_id": first.payload["version_id"], "number": 1, "configuration": {},
        "docker_image_iid": None, "revision_url": None, "gpu_usage": "disabled", "model_usage": "disabled",
        "state": "available", "tag": None, "branch": None,
    }
    assert store.resolve(f"worker-version:{first.payload['version_id']}") == f"worker-{worker_id}"

    fields = {
        "configuration": {"beam": 4, "langs": ["fr"]}, "docker_image_iid": "sha256:abc",
        "revision_url": "https://git/x/commit/0123456789ab", "gpu_usage": "required",
        "model_usage": "supported", "state": "created", "tag": "v4", "branch": "main",
    }
    result = bus.handle(m.CreateWorkerVersion(worker_id, fields), actor=alice)
    assert result.data["number"] == 4
    assert store.read_stream(f"worker-{worker_id}")[-1].payload == {
        "worker_id": worker_id, "version_id": result.data["version_id"], "number": 4, **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"gpu_usage": "always"}, "gpu_usage"),
        ({"model_usage": "maybe"}, "model_usage"),
        ({"state": "running"}, "state"),
        ({"configuration": ["not", "an", "object"]}, "configuration"),
        # Not a field of a version: a named error, not a TypeError from the event constructor.
        ({"colour": "blue"}, None),
        ({"number": 7}, None),
        ({"archived": True}, None),
    ],
)
def test_create_worker_version_invalid_values(bus: CommandBus, store: EventStore, alice: Actor,
                                              fields: dict[str, Any], field: str | None) -> None:
    worker_id = worker(bus, alice)
    head = store.head()
    with pytest.raises(InvalidValue) as err:
        bus.handle(m.CreateWorkerVersion(worker_id, fields), actor=alice)
    assert err.value.field == field
    assert store.head() == head


@pytest.mark.parametrize("key", ["tag", "revision_url"])
def test_create_worker_version_duplicate_names_the_existing_version(bus: CommandBus, store: EventStore,
                                                                    alice: Actor, key: str) -> None:
    worker_id = worker(bus, alice)
    first = version(bus, alice, worker_id, **{key: "v1"})
    head = store.head()

    with pytest.raises(WorkerVersionAlreadyExists) as err:
        version(bus, alice, worker_id, **{key: "v1"})

    assert err.value.existing_id == first
    assert err.value.field == key
    assert store.head() == head
    # Another worker may use the same tag.
    version(bus, alice, worker(bus, alice, "other"), **{key: "v1"})


def test_create_worker_version_permissions(bus: CommandBus, store: EventStore, alice: Actor,
                                           bob: Actor) -> None:
    worker_id = worker(bus, alice)
    with pytest.raises(NotFound):
        version(bus, bob, worker_id)
    with pytest.raises(NotFound):
        version(bus, alice, "no-such-worker")
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    with pytest.raises(PermissionDenied):
        version(bus, bob, worker_id)
    admin = user(bus, "root", admin=True)
    assert bus.handle(m.CreateWorkerVersion(worker_id), actor=admin).data["number"] == 1


def test_update_worker_version(bus: CommandBus, store: EventStore, alice: Actor, bob: Actor) -> None:
    worker_id = worker(bus, alice)
    v1 = version(bus, alice, worker_id, tag="v1", state="created")
    v2 = version(bus, alice, worker_id, tag="v2")
    head = store.head()

    result = bus.handle(
        m.UpdateWorkerVersion(v1, {"state": "available", "gpu_usage": "supported", "tag": "v1"}), actor=alice,
    )

    assert result.data == {"version_id": v1, "worker_id": worker_id}
    (updated,) = events_since(store, head)
    assert updated.event_type == "WorkerVersionUpdated"
    # Only what changed is recorded (the tag was already v1).
    assert updated.payload["changes"] == {"state": "available", "gpu_usage": "supported"}

    head = store.head()
    with pytest.raises(NotFound):
        bus.handle(m.UpdateWorkerVersion("no-such-version", {"state": "error"}), actor=alice)
    with pytest.raises(InvalidValue):
        bus.handle(m.UpdateWorkerVersion(v1, {"number": 9}), actor=alice)
    with pytest.raises(InvalidValue):
        bus.handle(m.UpdateWorkerVersion(v1, {"gpu_usage": "always"}), actor=alice)
    with pytest.raises(NotFound):
        bus.handle(m.UpdateWorkerVersion(v1, {"state": "error"}), actor=bob)
    # Moving a tag onto one another version holds is refused like creating it twice.
    with pytest.raises(WorkerVersionAlreadyExists) as err:
        bus.handle(m.UpdateWorkerVersion(v1, {"tag": "v2"}), actor=alice)
    assert err.value.existing_id == v2
    assert store.head() == head


def test_an_available_git_version_keeps_its_configuration(bus: CommandBus, alice: Actor) -> None:
    worker_id = worker(bus, alice)
    published = version(
        bus, alice, worker_id, revision_url="https://git/x/commit/abc", configuration={"a": 1},
    )
    with pytest.raises(VersionNotEditable):
        bus.handle(m.UpdateWorkerVersion(published, {"configuration": {"a": 2}}), actor=alice)
    local = version(bus, alice, worker_id, configuration={"a": 1})  # no revision: editable
    bus.handle(m.UpdateWorkerVersion(local, {"configuration": {"a": 2}}), actor=alice)


# --- configurations and models -------------------------------------------------------------------


def test_create_worker_configuration(bus: CommandBus, store: EventStore, alice: Actor, bob: Actor) -> None:
    worker_id = worker(bus, alice)
    result = bus.handle(
        m.CreateWorkerConfiguration(worker_id, "fast", {"beam": 1, "key": "s3cr3t"}, ["key"]), actor=alice,
    )
    configuration_id = result.data["configuration_id"]
    (created,) = store.read_stream(f"worker-configuration-{configuration_id}")
    assert created.payload == {
        "configuration_id": configuration_id, "worker_id": worker_id, "name": "fast",
        "configuration": {"beam": 1, "key": "s3cr3t"}, "secret_keys": ["key"],
    }

    head = store.head()
    with pytest.raises(InvalidValue) as err:
        bus.handle(m.CreateWorkerConfiguration(worker_id, "bad", {"beam": 1}, ["missing"]), actor=alice)
    assert err.value.field == "secret_keys"
    with pytest.raises(InvalidValue):
        bus.handle(m.CreateWorkerConfiguration(worker_id, " "), actor=alice)
    with pytest.raises(NotFound):
        bus.handle(m.CreateWorkerConfiguration(worker_id, "mine"), actor=bob)
    with pytest.raises(NotFound):
        bus.handle(m.CreateWorkerConfiguration("no-such-worker", "x"), actor=alice)
    assert store.head() == head


def test_create_model_and_versions(bus: CommandBus, store: EventStore, alice: Actor, bob: Actor) -> None:
    model_id = bus.handle(m.CreateModel("HTR", "handwriting"), actor=alice).data["model_id"]
    mv1 = bus.handle(m.CreateModelVersion(model_id, {"size": 1}, "v1"), actor=alice).data["model_version_id"]
    mv2 = bus.handle(m.CreateModelVersion(model_id), actor=alice).data["model_version_id"]

    created, v1, v2 = store.read_stream(f"model-{model_id}")
    assert created.payload == {"model_id": model_id, "name": "HTR", "owner_id": alice.user_id,
                               "description": "handwriting"}
    assert (v1.payload["model_version_id"], v1.payload["number"], v1.payload["tag"]) == (mv1, 1, "v1")
    assert (v2.payload["model_version_id"], v2.payload["number"]) == (mv2, 2)
    assert store.resolve(f"model-version:{mv1}") == f"model-{model_id}"

    head = store.head()
    with pytest.raises(NotFound):
        bus.handle(m.CreateModelVersion(model_id), actor=bob)
    with pytest.raises(NotFound):
        bus.handle(m.CreateModelVersion("no-such-model"), actor=alice)
    with pytest.raises(InvalidValue):
        bus.handle(m.CreateModel(" "), actor=alice)
    assert store.head() == head


# --- user worker runs ----------------------------------------------------------------------------


def test_create_user_run(bus: CommandBus, store: EventStore, alice: Actor) -> None:
    worker_id = worker(bus, alice, name="Tesseract")
    version_id = version(bus, alice, worker_id)
    configuration_id = bus.handle(m.CreateWorkerConfiguration(worker_id, "c"), actor=alice).data[
        "configuration_id"]
    model_id = bus.handle(m.CreateModel("HTR"), actor=alice).data["model_id"]
    model_version_id = bus.handle(m.CreateModelVersion(model_id), actor=alice).data["model_version_id"]
    head = store.head()

    result = bus.handle(
        m.CreateUserRun(version_id, configuration_id=configuration_id, model_version_id=model_version_id),
        actor=alice,
    )

    run_id = result.data["run_id"]
    (created,) = events_since(store, head)
    assert created.stream_id == f"local-process-{alice.user_id}"
    assert created.payload == {
        "process_id": local_process_id(alice.user_id), "user_id": alice.user_id, "run_id": run_id,
        "worker_id": worker_id, "worker_version_id": version_id, "summary": "Worker Tesseract @ version 1",
        "configuration_id": configuration_id, "model_version_id": model_version_id,
    }
    assert (created.actor_type, created.actor_id) == ("user", alice.user_id)
    assert result.position == created.global_position
    assert store.resolve(f"worker-run:{run_id}") == f"local-process-{alice.user_id}"


def test_user_run_summaries(bus: CommandBus, store: EventStore, alice: Actor) -> None:
    worker_id = worker(bus, alice, name="OCR")
    version(bus, alice, worker_id)
    second = version(bus, alice, worker_id)
    git = version(bus, alice, worker_id, revision_url="https://gitlab.com/x/commit/0123456789abcdef/")
    named = version(bus, alice, worker_id)

    run(bus, alice, second)
    run(bus, alice, git)
    run(bus, alice, named, summary="My own summary")

    summaries = [e.payload["summary"] for e in store.read_stream(f"local-process-{alice.user_id}")]
    assert summaries == ["Worker OCR @ version 2", "Worker OCR @ 01234567", "My own summary"]


def test_second_run_for_a_version_names_the_first(bus: CommandBus, store: EventStore, alice: Actor,
                                                 bob: Actor) -> None:
    worker_id = worker(bus, alice)
    version_id = version(bus, alice, worker_id)
    configuration_id = bus.handle(m.CreateWorkerConfiguration(worker_id, "c"), actor=alice).data[
        "configuration_id"]
    first = run(bus, alice, version_id)
    head = store.head()

    # Whatever the configuration or summary: a new run needs a new version.
    for kwargs in ({}, {"configuration_id": configuration_id}, {"summary": "again"}):
        with pytest.raises(UserRunAlreadyExists) as err:
            run(bus, alice, version_id, **kwargs)
        assert err.value.existing_id == first
        assert err.value.field == "worker_version_id"
    assert store.head() == head

    # Runs are personal: Bob's process is another stream, he gets his own run.
    bus.handle(m.GrantWorkerAccess(worker_id, bob.user_id), actor=alice)
    assert run(bus, bob, version_id) != first
    # And Alice's next version gets a run.
    assert run(bus, alice, version(bus, alice, worker_id)) != first


def test_create_user_run_not_found_cases(bus: CommandBus, store: EventStore, alice: Actor,
                                         bob: Actor) -> None:
    mine = worker(bus, alice, "mine")
    my_version = version(bus, alice, mine)
    other = worker(bus, alice, "other")
    foreign_configuration = bus.handle(m.CreateWorkerConfiguration(other, "c"), actor=alice).data[
        "configuration_id"]
    bobs_model = bus.handle(m.CreateModel("Bob's"), actor=bob).data["model_id"]
    bobs_model_version = bus.handle(m.CreateModelVersion(bobs_model), actor=bob).data["model_version_id"]
    head = store.head()

    cases: list[tuple[Actor, m.CreateUserRun, str]] = [
        (bob, m.CreateUserRun(my_version), "worker_version_id"),  # someone else's private worker
        (alice, m.CreateUserRun("no-such-version"), "worker_version_id"),
        (alice, m.CreateUserRun(my_version, configuration_id=foreign_configuration), "configuration_id"),
        (alice, m.CreateUserRun(my_version, configuration_id="no-such-configuration"), "configuration_id"),
        (alice, m.CreateUserRun(my_version, model_version_id=bobs_model_version), "model_version_id"),
        (alice, m.CreateUserRun(my_version, model_version_id="no-such-model-version"), "model_version_id"),
    ]
    for actor, command, field in cases:
        with pytest.raises(NotFound) as err:
            bus.handle(command, actor=actor)
        assert err.value.field == field, command
    assert store.head() == head


@pytest.mark.parametrize(
    "changes",
    [{"archived": True}, {"state": "error"}],
)
def test_create_user_run_from_an_unusable_version(bus: CommandBus, alice: Actor,
                                                  changes: dict[str, Any]) -> None:
    worker_id = worker(bus, alice)
    version_id = version(bus, alice, worker_id)
    bus.handle(m.UpdateWorkerVersion(version_id, changes), actor=alice)
    with pytest.raises(VersionNotUsable):
        run(bus, alice, version_id)


def test_create_user_run_from_an_archived_worker(bus: CommandBus, alice: Actor) -> None:
    worker_id = worker(bus, alice)
    version_id = version(bus, alice, worker_id)
    bus.handle(m.UpdateWorker(worker_id, {"archived": True}), actor=alice)
    with pytest.raises(VersionNotUsable):
        run(bus, alice, version_id)


# --- idempotency ---------------------------------------------------------------------------------


def test_same_command_id_and_payload_replays_the_answer(bus: CommandBus, store: EventStore,
                                                        alice: Actor) -> None:
    version_id = version(bus, alice, worker(bus, alice))

    first = bus.handle(m.CreateUserRun(version_id), actor=alice, command_id="key-1")
    head = store.head()
    second = bus.handle(m.CreateUserRun(version_id), actor=alice, command_id="key-1")

    assert second == CommandResult(first.data, first.position, replayed=True)
    assert first.replayed is False
    assert store.head() == head  # no new event, and no UserRunAlreadyExists either
    (created,) = store.read_stream(f"local-process-{alice.user_id}")
    assert created.command_id == "key-1"
    assert store.get_command("key-1").position == first.position


def test_same_command_id_with_another_payload_is_refused(bus: CommandBus, store: EventStore,
                                                         alice: Actor, bob: Actor) -> None:
    bus.handle(m.CreateModel("HTR"), actor=alice, command_id="key-1")
    head = store.head()

    with pytest.raises(IdempotencyKeyReused):
        bus.handle(m.CreateModel("HTR v2"), actor=alice, command_id="key-1")
    with pytest.raises(IdempotencyKeyReused):  # another command type, same key
        bus.handle(m.RegisterUser("HTR"), command_id="key-1")
    with pytest.raises(IdempotencyKeyReused):  # another caller must not receive Alice's answer
        bus.handle(m.CreateModel("HTR"), actor=bob, command_id="key-1")
    assert store.head() == head


def test_replay_of_a_command_that_appended_nothing(bus: CommandBus, store: EventStore,
                                                   alice: Actor) -> None:
    worker_id = worker(bus, alice)
    first = bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="x"), actor=alice, command_id="k")
    assert first.data == {"worker_id": worker_id, "created": False}
    # It answered from the state at the worker's last event: a reader waiting for this
    # position sees the worker.
    assert first.position == store.read_stream(f"worker-{worker_id}")[-1].global_position

    again = bus.handle(m.CreateWorker(name="OCR", slug="ocr", type="x"), actor=alice, command_id="k")
    assert again == dataclasses.replace(first, replayed=True)


def test_domain_errors_are_not_remembered(bus: CommandBus, store: EventStore, alice: Actor) -> None:
    # A refused command leaves no record: once the cause is fixed, the same key succeeds.
    worker_id = worker(bus, alice)
    command = m.CreateWorkerConfiguration(worker_id, "c")
    bob = user(bus, "bob")
    with pytest.raises(NotFound):
        bus.handle(command, actor=bob, command_id="k")
    assert store.get_command("k") is None
    assert bus.handle(command, actor=alice, command_id="k").replayed is False


def test_correlation_and_causation_ids(bus: CommandBus, store: EventStore) -> None:
    head = store.head()
    bus.handle(m.RegisterUser("zoe"), command_id="cmd-9", correlation_id="req-1")
    bus.handle(m.RegisterUser("yan"))
    with_id, without = events_since(store, head)
    assert (with_id.command_id, with_id.causation_id, with_id.correlation_id) == ("cmd-9", "cmd-9", "req-1")
    assert without.command_id is None
    assert without.correlation_id == without.causation_id != with_id.causation_id
