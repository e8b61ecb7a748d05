"""Property tests of the pure domain (no database): hypothesis drives random command sequences.

For any sequence of decisions, accepted or refused:
- replaying the recorded events into a fresh aggregate rebuilds exactly the same state
  (also after the JSON round trip the store applies), so state is a fold of events;
- refused commands record nothing and leave the state alone;
- creates are idempotent, and the LocalProcess invariant names the first run.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import events as ev
from domain.actor import Actor
from domain.aggregate import Aggregate
from domain.errors import DomainError, NotFound, RunAlreadyRetracted, RunRetracted, UserRunAlreadyExists
from domain.local_process import LocalProcess, local_process_stream
from domain.user import User, user_stream
from domain.worker import USAGES, VERSION_STATES, Worker, WorkerType, worker_stream, worker_type_stream

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OWNER = Actor("u-owner")
ACTORS = [OWNER, Actor("u-a"), Actor("u-b"), Actor("root", is_admin=True)]

json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)


# --- helpers ----------------------------------------------------------------------------------------


def state(agg: Aggregate) -> dict[str, Any]:
    """Everything an aggregate holds except the queue of events not yet appended."""
    return {k: v for k, v in vars(agg).items() if k != "pending"}


def stored_form(event: ev.DomainEvent) -> ev.DomainEvent:
    """What the store gives back: JSON payload, decoded (and upcast) by type and schema version."""
    payload = json.loads(json.dumps(event.to_payload()))
    return ev.decode(event.event_type, event.schema_version, payload)


def assert_rebuilds(agg: Aggregate) -> None:
    recorded = list(agg.pending)
    assert agg.version == len(recorded)
    for events in (recorded, [stored_form(e) for e in recorded]):
        fresh = type(agg).replay(agg.stream_id, events)
        assert state(fresh) == state(agg)


def attempt(agg: Aggregate, decide: Callable[[], None]) -> bool:
    """Run one decision; a refusal must leave the aggregate exactly as it was."""
    before = (state(agg), list(agg.pending))
    try:
        decide()
    except DomainError:
        assert (state(agg), list(agg.pending)) == before
        return False
    return True


# --- Worker -------------------------------------------------------------------------------------------

actors = st.sampled_from(ACTORS)
version_fields = st.fixed_dictionaries({}, optional={
    "configuration": json_objects | st.just(["not", "a", "dict"]),
    "gpu_usage": st.sampled_from([*USAGES, "always"]),
    "model_usage": st.sampled_from([*USAGES, "maybe"]),
    "state": st.sampled_from([*VERSION_STATES, "gone"]),
    "tag": st.sampled_from([None, "", "v1", "v2", "v3"]),
    "revision_url": st.sampled_from([None, "https://git/a", "https://git/b"]),
    "docker_image_iid": st.sampled_from([None, "sha256:1"]),
    "branch": st.sampled_from([None, "main"]),
    "colour": st.just("blue"),  # not a version field: must be refused by name
})
version_changes = st.fixed_dictionaries({}, optional={
    "configuration": json_objects,
    "gpu_usage": st.sampled_from([*USAGES, "always"]),
    "state": st.sampled_from([*VERSION_STATES, "gone"]),
    "tag": st.sampled_from([None, "v1", "v2", "v3"]),
    "archived": st.booleans(),
    "number": st.just(99),  # not updatable
})
worker_changes = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["", "OCR", "HTR"]),
    "type": st.sampled_from(["ocr", "htr"]),
    "description": st.text(max_size=5),
    "archived": st.booleans(),
    "owner_id": st.just("u-a"),  # not updatable
})
worker_ops = st.lists(
    st.one_of(
        st.tuples(st.just("update"), actors, worker_changes),
        st.tuples(st.just("grant"), actors, st.sampled_from(["u-owner", "u-a", "u-b"])),
        st.tuples(st.just("create_version"), actors, version_fields),
        st.tuples(st.just("update_version"), actors, st.integers(0, 5), version_changes),
    ),
    max_size=25,
)


@SETTINGS
@given(ops=worker_ops)
def test_worker_state_is_the_fold_of_its_events(ops: list[tuple[Any, ...]]) -> None:
    worker = Worker(worker_stream("w"))
    worker.create(worker_id="w", name="OCR", slug="ocr", type="ocr", owner_id=OWNER.user_id)
    ids = iter(f"v{i}" for i in range(1000))

    for op, actor, *args in ops:
        if op == "update":
            attempt(worker, lambda a=actor, c=args[0]: worker.update(a, c))
        elif op == "grant":
            attempt(worker, lambda a=actor, u=args[0]: worker.grant_access(a, u))
        elif op == "create_version":
            accepted = attempt(worker, lambda a=actor, f=args[0]: worker.create_version(a, next(ids), f))
            if accepted:
                assert actor.is_admin or actor == OWNER  # only managers create versions
        else:
            version_ids = list(worker.versions) or ["missing"]
            target = version_ids[args[0] % len(version_ids)]
            attempt(worker, lambda a=actor, t=target, c=args[1]: worker.update_version(a, t, c))

    assert_rebuilds(worker)
    # Versions are numbered 1..n in creation order, and no two share a tag or revision.
    assert [v.number for v in worker.versions.values()] == list(range(1, len(worker.versions) + 1))
    for key in ("tag", "revision_url"):
        values = [getattr(v, key) for v in worker.versions.values() if getattr(v, key)]
        assert len(values) == len(set(values)), key


@SETTINGS
@given(name=st.text(min_size=1, max_size=10).filter(str.strip), again=st.text(max_size=10))
def test_second_worker_and_type_create_record_nothing(name: str, again: str) -> None:
    worker = Worker(worker_stream("w"))
    worker.create(worker_id="w", name=name, slug="s", type="t", owner_id="u")
    worker.create(worker_id="w", name=again, slug="other", type="x", owner_id="u2")
    assert [type(e) for e in worker.pending] == [ev.WorkerCreated]
    assert worker.name == name and worker.owner_id == "u"

    kind = WorkerType(worker_type_stream("t"))
    kind.create("id-1", "t", name)
    kind.create("id-2", "t", again)  # first writer wins
    assert len(kind.pending) == 1 and kind.type_id == "id-1"
    assert_rebuilds(worker)
    assert_rebuilds(kind)


# --- LocalProcess ----------------------------------------------------------------------------------


@SETTINGS
@given(requests=st.lists(
    st.tuples(st.sampled_from(["v1", "v2", "v3", "v4"]), st.sampled_from([None, "c1", "c2"]),
              st.sampled_from([None, "m1"])),
    max_size=20,
))
def test_local_process_one_run_per_version(requests: list[tuple[str, str | None, str | None]]) -> None:
    process = LocalProcess(local_process_stream("u"))
    first_run: dict[str, str] = {}

    for n, (version_id, configuration_id, model_version_id) in enumerate(requests):
        run_id = f"run-{n}"
        try:
            process.create_user_run(
                user_id="u", run_id=run_id, worker_id="w", worker_version_id=version_id, summary="s",
                configuration_id=configuration_id, model_version_id=model_version_id,
            )
        except UserRunAlreadyExists as exc:
            # Whatever the configuration or model, the error names the first run.
            assert exc.existing_id == first_run[version_id]
        else:
            assert version_id not in first_run
            first_run[version_id] = run_id

    assert process.run_by_version == first_run
    assert [e.run_id for e in process.pending] == list(first_run.values())
    assert all(isinstance(e, ev.UserWorkerRunCreated) and e.user_id == "u" for e in process.pending)
    assert_rebuilds(process)


@SETTINGS
@given(ops=st.lists(st.tuples(st.sampled_from(["r0", "r1", "r-unknown"]), actors), max_size=12))
def test_local_process_retraction_owner_or_admin_once(ops: list[tuple[str, Actor]]) -> None:
    """Issue 14: only the owner or an admin retracts a run, once; a retracted run signs nothing."""
    process = LocalProcess(local_process_stream(OWNER.user_id))
    for n in range(2):
        process.create_user_run(user_id=OWNER.user_id, run_id=f"r{n}", worker_id="w",
                                worker_version_id=f"v{n}", summary="s")
    retracted_by: dict[str, str] = {}
    for run_id, actor in ops:
        allowed = run_id != "r-unknown" and (actor.is_admin or actor == OWNER)
        if attempt(process, lambda: process.retract_run(run_id, actor)):  # noqa: B023 - called at once
            assert allowed and run_id not in retracted_by
            retracted_by[run_id] = actor.user_id
        else:
            assert not allowed or run_id in retracted_by
            if allowed:
                with pytest.raises(RunAlreadyRetracted):
                    process.retract_run(run_id, actor)
            else:
                with pytest.raises(NotFound):
                    process.retract_run(run_id, actor)
    assert process.retracted == retracted_by
    for run_id in ("r0", "r1"):
        if run_id in retracted_by:
            with pytest.raises(RunRetracted):
                process.check_can_sign(run_id)
        else:
            process.check_can_sign(run_id)
    assert_rebuilds(process)


# --- User ---------------------------------------------------------------------------------------------


@SETTINGS
@given(
    registered=st.booleans(),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("register"), st.sampled_from(["alice", "bob", " "]), st.booleans()),
            st.tuples(st.just("issue"), st.sampled_from(["h1", "h2"]), st.text(max_size=4)),
            st.tuples(st.just("revoke"), st.sampled_from(["t0", "t1", "t2", "t9"]), st.none()),
        ),
        max_size=20,
    ),
)
def test_user_state_is_the_fold_of_its_events(registered: bool, ops: list[tuple[str, Any, Any]]) -> None:
    user = User(user_stream("u"))
    if registered:
        user.register("u", "alice", "a@x", False)
    tokens = iter(f"t{i}" for i in range(100))
    for op, arg, extra in ops:
        exists = user.exists
        if op == "register":
            pending, username = len(user.pending), user.username
            accepted = attempt(user, lambda n=arg, a=extra: user.register("u", n, None, a))
            if exists:  # a second register, even with other details, records nothing
                assert accepted and len(user.pending) == pending and user.username == username
        elif op == "issue":
            accepted = attempt(user, lambda h=arg, label=extra: user.issue_token(next(tokens), h, label))
            assert accepted == exists
        else:
            attempt(user, lambda t=arg: user.revoke_token(t))
    assert_rebuilds(user)
    # Revoked tokens are gone; the rest are active.
    issued = {e.token_id for e in user.pending if isinstance(e, ev.TokenIssued)}
    revoked = {e.token_id for e in user.pending if isinstance(e, ev.TokenRevoked)}
    assert set(user.tokens) == issued - revoked


def test_token_commands_on_an_unregistered_user_are_not_found() -> None:
    user = User(user_stream("u"))
    with pytest.raises(NotFound):
        user.issue_token("t", "h")
    with pytest.raises(NotFound):
        user.revoke_token("t")


# --- events ---------------------------------------------------------------------------------------


def _strategy_for(annotation: Any) -> st.SearchStrategy[Any]:
    # Only the JSON shapes events may use; a new field type fails here (KeyError), which is
    # the point: it must be given a JSON form and a strategy first.
    floats = st.floats(allow_nan=False, allow_infinity=False)
    return {
        str: st.text(max_size=10),
        str | None: st.none() | st.text(max_size=10),
        int: st.integers(-(2**31), 2**31),
        int | None: st.none() | st.integers(-(2**31), 2**31),
        float: floats,
        float | None: st.none() | floats,
        bool: st.booleans(),
        Any: json_values,
        dict[str, Any]: json_objects,
        list[str]: st.lists(st.text(max_size=5), max_size=3),
        list[list[float]] | None: st.none() | st.lists(st.lists(floats, min_size=2, max_size=2), max_size=4),
        list[list[int]] | None: st.none() | st.lists(
            st.lists(st.integers(0, 2**31), min_size=2, max_size=2), max_size=4,
        ),
    }[annotation]


def _event_strategy(cls: type[ev.DomainEvent]) -> st.SearchStrategy[ev.DomainEvent]:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: _strategy_for(hints[f.name]) for f in dataclasses.fields(cls)})


any_event = st.one_of([_event_strategy(cls) for cls in ev.EVENT_TYPES.values()])


@SETTINGS
@given(event=any_event)
def test_events_round_trip_through_payload_and_decode(event: ev.DomainEvent) -> None:
    payload = event.to_payload()
    assert json.loads(json.dumps(payload)) == payload  # JSON-safe as is
    assert stored_form(event) == event
    assert ev.EVENT_TYPES[event.event_type] is type(event)


def test_decode_upcasts_older_schema_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stored schema-0 UserRegistered had `mail` instead of `email`: upcast on read.
    monkeypatch.setitem(ev.UPCASTERS, ("UserRegistered", 0),
                        lambda p: {k if k != "mail" else "email": v for k, v in p.items()})
    decoded = ev.decode("UserRegistered", 0, {"user_id": "u", "username": "a", "mail": "a@x"})
    assert decoded == ev.UserRegistered(user_id="u", username="a", email="a@x")
    with pytest.raises(ValueError, match="unknown event type"):
        ev.decode("NoSuchEvent", 1, {})
