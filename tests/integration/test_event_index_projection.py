"""The subject and visibility index as an ordinary projection (issue 13, item 2): registered
with the others, rebuilt blue/green, parked, reported; the readers still never see it stale;
and the webhook kicker runs in the relay's loop, under its lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.actor import Actor
from integrations import audit, index
from integrations import subscriptions as subs
from integrations.all_projections import ALL_PROJECTIONS
from integrations.feed import read_page
from integrations.kicker import WebhookKicker
from integrations.tables import event_scopes, event_subjects
from projections.registry import PROJECTIONS, Projection
from projections.relay import Relay, RelayLockUnavailable
from projections.runner import ProjectionRunner, RetryPolicy
from projections.status import projection_statuses
from tests.api_support import grant, make_user
from tests.conftest import settings_for
from tests.integration_support import create_run_chain, fast_settings
from tests.waiting import running
from worker_runs.bootstrap import Container, bootstrap, utc_now

ADMIN = Actor("an-admin", is_admin=True)


@pytest.fixture
def live(engine: Engine, tmp_path: Path) -> Container:
    return bootstrap(fast_settings(settings_for(engine, tmp_path)), engine=engine)


def _feed(live: Container, actor: Actor) -> list[str]:
    return [e["id"] for e in read_page(live.engine, actor, after=0, limit=1000).events]


def _rows(live: Container, table: sa.Table) -> list[tuple]:
    with live.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(table)))


def test_the_index_is_registered_with_the_read_models(live: Container) -> None:
    assert set(ALL_PROJECTIONS) == {*PROJECTIONS, index.NAME}
    assert index.NAME in live.runner.names  # so the relay announces it and the workers run it


def test_readers_run_the_index_up_to_the_head_themselves(live: Container) -> None:
    alice = make_user(live, "alice")
    chain = create_run_chain(live, alice, "ocr")
    assert index.catch_up(live.engine) == live.store.head()  # nobody else ran it
    [status] = projection_statuses(live.engine, [index.NAME])
    assert status.checkpoint == live.store.head() and status.lag_events == 0
    events, _ = audit.search(live.engine, alice.actor, audit.AuditFilter(worker_run=chain.run_id))
    assert events and all(e.global_position <= status.checkpoint for e in events)
    # Nothing new: the position is read, nothing is written.
    assert index.catch_up(live.engine) == status.checkpoint


def test_a_rebuild_switches_generations_and_the_readers_see_the_same(live: Container) -> None:
    alice, bob = make_user(live, "alice"), make_user(live, "bob")
    chain = create_run_chain(live, alice, "ocr")
    grant(live, alice, chain.worker_id, bob)
    create_run_chain(live, bob, "htr")
    before = {who: _feed(live, who.actor) for who in (alice, bob)}
    subjects = _rows(live, event_subjects)
    assert {row[0] for row in subjects} == {1}
    # A rebuild half-way: generation 2 holds some rows, the readers still read generation 1 only.
    runner = live.runner
    _, building = runner.start_rebuild(index.NAME)
    runner.run_batch(index.NAME, generation=building, batch_size=3)
    assert {row[0] for row in _rows(live, event_subjects)} == {1, 2}
    assert {who: _feed(live, who.actor) for who in (alice, bob)} == before
    result = runner.rebuild(index.NAME)
    assert result.generation == building
    assert {who: _feed(live, who.actor) for who in (alice, bob)} == before
    assert [(2, *row[1:]) for row in subjects] == _rows(live, event_subjects)  # old rows gone
    assert audit.search(live.engine, alice.actor, audit.AuditFilter(stream=chain.worker_id))[0]


def test_an_event_the_index_cannot_take_is_parked_and_reported(engine: Engine, tmp_path: Path) -> None:
    """Parking for free: a failing event is retried, then parked; later events keep flowing."""
    live = bootstrap(settings_for(engine, tmp_path), engine=engine)
    alice = make_user(live, "alice")
    failing = live.store.head()

    def broken(event):  # type: ignore[no-untyped-def]
        if event.global_position == failing:
            raise ValueError("cannot index this one")
        return index.index_ops(event)

    projection = Projection(index.NAME, {}, index.PROJECTION.tables, default=broken)
    runner = ProjectionRunner(live.engine, {index.NAME: projection}, policy=RetryPolicy(max_attempts=1))
    create_run_chain(live, alice, "ocr")
    runner.catch_up(index.NAME)
    [status] = projection_statuses(live.engine, [index.NAME])
    assert status.parked == 1 and status.checkpoint == live.store.head()
    assert [row.global_position for row in runner.parked(index.NAME)] == [failing]
    with live.engine.connect() as conn:
        scoped = {p for (p,) in conn.execute(sa.select(event_scopes.c.global_position))}
    assert failing not in scoped and live.store.head() in scoped


def test_the_relay_runs_the_kicker_under_its_lock(live: Container) -> None:
    alice = make_user(live, "alice")
    sub = subs.create(live.engine, subs.Caller(alice.actor), url="http://127.0.0.1:9/hook",
                      event_types=["worker_run.created"], secret=None, allow_private=True, now=utc_now())
    create_run_chain(live, alice, "ocr")
    kicked: list[str] = []
    announced: list[tuple[str, int]] = []

    class Publisher:
        def publish(self, name: str, target: int) -> None:
            announced.append((name, target))

    kicker = WebhookKicker(live.engine, kicked.append)
    lock = live.settings.home / "relay.lock"
    relay = Relay(live.engine, Publisher(), live.runner.names, lock_path=lock, kickers=[kicker])
    result = relay.step()
    assert result.kicked == [sub["id"]] and kicked == [sub["id"]]
    assert {name for name, _ in announced} == set(live.runner.names)  # the index too
    # A second relay stands by, and so does its kicker: two relays never both kick.
    with running(relay.run):
        second = Relay(live.engine, Publisher(), [], lock_path=lock,
                       kickers=[WebhookKicker(live.engine, kicked.append)])
        done = threading.Event()
        done.set()
        with pytest.raises(RelayLockUnavailable):
            for _ in range(100):  # until the first relay holds the lock
                second.run(done, wait_for_lock=False)
                threading.Event().wait(0.05)
