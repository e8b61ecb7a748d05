"""Group commit (eventstore/group_commit.py): queued appends share one transaction, members
sharing a stream go to separate groups, a failed member fails alone, and on PostgreSQL a
group's positions stay gap-free and in commit order."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from eventstore import ConcurrencyConflict, SqlEventStore, StreamAppend
from eventstore.engine import make_engine
from eventstore.group_commit import GroupCommit, Member
from eventstore.migrate import upgrade
from tests.integration.test_event_store_contract import ev, meta


def _member(name: str, *keys: str) -> Member:
    return Member(sql=name, params={}, keys=frozenset(keys), written=None)


def test_callers_queued_behind_a_commit_share_the_next_group() -> None:
    groups: list[list[str]] = []
    first_running, release = threading.Event(), threading.Event()

    def commit(members: Sequence[Member]) -> None:
        groups.append([m.sql for m in members])
        if len(groups) == 1:
            first_running.set()
            release.wait(5)
        for m in members:
            if m.sql == "bad":
                m.fail(ConcurrencyConflict("taken"))
            else:
                m.succeed(m.sql.upper())

    gc = GroupCommit(commit)
    answers: dict[str, object] = {}

    def submit(member: Member) -> None:
        try:
            answers[member.sql] = gc.submit(member)
        except ConcurrencyConflict as exc:
            answers[member.sql] = exc

    leader = threading.Thread(target=submit, args=(_member("a", "s1"),))
    leader.start()
    assert first_running.wait(5)
    queued = [_member("b", "s2"), _member("c", "s1"), _member("bad", "s3"), _member("d", "s2")]
    threads = [threading.Thread(target=submit, args=(m,)) for m in queued]
    for t in threads:
        t.start()
        time.sleep(0.05)  # queued in this order
    release.set()
    for t in [leader, *threads]:
        t.join(5)
    # The second group took everyone queued except the second writer of stream s2.
    assert groups == [["a"], ["b", "c", "bad"], ["d"]]
    assert answers["a"] == "A" and answers["b"] == "B" and answers["c"] == "C" and answers["d"] == "D"
    assert isinstance(answers["bad"], ConcurrencyConflict)


@pytest.mark.postgres
def test_a_conflicting_member_fails_alone_and_positions_stay_gap_free(pg_engine: Engine) -> None:
    _a_conflicting_member_fails_alone(SqlEventStore(pg_engine))


def test_a_conflicting_member_fails_alone_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}")
    upgrade(engine)
    try:
        _a_conflicting_member_fails_alone(SqlEventStore(engine))
    finally:
        engine.dispose()


def test_sqlite_group_rolls_a_refused_member_back_alone(tmp_path: Path) -> None:
    """One transaction, a savepoint per member: the refused one leaves nothing (no alias, no
    position), the others commit together with consecutive positions."""
    engine = make_engine(f"sqlite:///{tmp_path / 'group.db'}")
    upgrade(engine)
    store = SqlEventStore(engine)
    store.append([StreamAppend("taken", 0, [ev(1)])], metadata=meta())

    def member(stream: str, alias: str, *events: int) -> Member:
        appends = [StreamAppend(stream, 0, [ev(n) for n in events])]
        rows = SqlEventStore._rows(appends, meta(), 1, recorded_at=datetime.now(UTC))
        return Member(sql="sqlite", params={"appends": appends, "rows": rows, "aliases": {alias: stream},
                                            "command": None, "now": datetime.now(UTC)},
                      keys=frozenset([stream]), written=None)

    members = [member("a", "alias:a", 1, 2), member("taken", "alias:refused", 3), member("b", "alias:b", 4)]
    store._commit_group_sqlite(members)
    assert [m.answer for m in members] == [(2, 3), None, (4, 4)]
    assert isinstance(members[1].error, ConcurrencyConflict)
    assert [(e.stream_id, e.global_position) for e in store.iter_all(0)] == [
        ("taken", 1), ("a", 2), ("a", 3), ("b", 4)]
    assert store.resolve("alias:refused") is None and store.resolve("alias:b") == "b"
    assert store.head() == 4
    engine.dispose()


def _a_conflicting_member_fails_alone(store: SqlEventStore) -> None:
    store.append([StreamAppend("taken", 0, [ev(1)])], metadata=meta())
    barrier = threading.Barrier(16)
    outcomes: dict[int, object] = {}

    def write(i: int) -> None:
        # Writer 0 appends at a version the stream has left: it conflicts, nobody else does.
        append = StreamAppend("taken", 0, [ev(2)]) if i == 0 else StreamAppend(f"s-{i}", 0, [ev(i), ev(i)])
        barrier.wait()
        try:
            outcomes[i] = store.append([append], metadata=meta())
        except ConcurrencyConflict as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert isinstance(outcomes.pop(0), ConcurrencyConflict)
    assert not any(isinstance(o, Exception) for o in outcomes.values())
    positions = [e.global_position for e in store.iter_all(0)]
    assert positions == list(range(1, 1 + 1 + 2 * 15)) and store.head() == 31
    for i in range(1, 16):
        assert [e.payload["n"] for e in store.read_stream(f"s-{i}")] == [i, i]
