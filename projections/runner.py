"""The projection runner: read events after a checkpoint, apply a batch, write the rows and
the checkpoint in one transaction.

Why this shape (reference/event-sourcing.md §4.7): the rows and the checkpoint commit
together, so a task delivered twice, two tasks racing, or a worker killed mid-batch can
never apply an event twice or skip one. The runner holds one lock per projection for the
length of a batch (a PostgreSQL advisory transaction lock; SQLite's BEGIN IMMEDIATE), so at
most one batch of a projection runs at a time, whichever process runs it: a Celery task, a
CLI rebuild, or a retry of parked events.

Failures: an event whose projector (or its SQL) fails is retried with exponential back-off
(`projection_failures`), the projection waiting before it; after `max_attempts` it is
parked in `dead_letters` and later events of the *same stream* are parked behind it
(`held_behind`), while other streams keep flowing. `retry_parked` replays them.

Rebuild (reference/event-sourcing.md §4.8): generation N+1 is built beside the live one,
switched live in the transaction of its last batch, then the old rows are deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.events import EventDecodeError
from eventstore.engine import writer
from eventstore.log_consumer import exponential_delay, head_position, lock_for_transaction, read_events
from eventstore.records import StoredEvent
from projections import bookkeeping as bk
from projections.apply import UnknownReadModel, apply_ops, delete_generations_except, read_model_table
from projections.consistency import projection_positions
from projections.ops import Op
from projections.registry import PROJECTIONS, Projection
from projections.tables import dead_letters, projection_checkpoints

log = logging.getLogger(__name__)


class UnknownProjection(KeyError):
    """No projection has this name (see projections/registry.py)."""


class ParkedEventNotRoot(ValueError):
    """A held event can only be replayed with the event it is held behind."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often an event may fail before it is parked, and how long to wait in between."""

    max_attempts: int = 5
    backoff_base: float = 0.5  # seconds before the 2nd attempt, doubled for each next one
    backoff_max: float = 60.0

    def delay(self, attempts: int) -> float:
        return exponential_delay(attempts, self.backoff_base, self.backoff_max)


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class BatchResult:
    name: str
    generation: int
    #: events accounted for by this batch (applied, ignored or parked)
    processed: int
    #: the checkpoint after the batch
    checkpoint: int
    #: the batch read everything there was: nothing more to do right now
    caught_up: bool
    parked: int = 0
    #: a failing event waits for its back-off: try again in this many seconds
    retry_after: float | None = None
    #: this batch made its (building) generation the live one
    switched: bool = False


@dataclass(frozen=True)
class CatchUpResult:
    name: str
    generation: int
    checkpoint: int
    processed: int
    batches: int
    caught_up: bool
    retry_after: float | None = None


@dataclass(frozen=True)
class RebuildResult:
    name: str
    old_generation: int
    generation: int
    checkpoint: int
    events: int
    seconds: float


@dataclass(frozen=True)
class RetryResult:
    name: str
    replayed: list[int] = field(default_factory=list)
    still_parked: list[int] = field(default_factory=list)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


#: exceptions that mean "this event cannot be applied" rather than "the database is gone":
#: the latter (OperationalError, a lost connection) abort the batch and are retried whole.
def _is_event_failure(exc: BaseException) -> bool:
    if isinstance(exc, UnknownReadModel):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return not isinstance(exc, sa.exc.OperationalError) and not exc.connection_invalidated
    return isinstance(exc, sa.exc.StatementError)


class _Retry(Exception):
    """Internal: the optimistic batch apply failed; redo it one event at a time."""


class ProjectionRunner:
    def __init__(
        self,
        engine: Engine,
        projections: Mapping[str, Projection] = PROJECTIONS,
        *,
        batch_size: int = 500,
        policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.projections = projections
        self.batch_size = batch_size
        self.policy = policy
        self.clock = clock

    # --- lookup -------------------------------------------------------------------------------

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            raise UnknownProjection(f"no projection named {name!r}") from None

    @property
    def names(self) -> list[str]:
        return list(self.projections)

    def live_checkpoint(self, name: str) -> int:
        """The live generation's checkpoint, read without taking the projection's lock."""
        with self.engine.connect() as conn:
            return projection_positions(conn, [name])[name]

    # --- one batch ------------------------------------------------------------------------------

    def run_batch(
        self, name: str, *, generation: int | None = None, batch_size: int | None = None,
        switch_when_caught_up: bool = False,
    ) -> BatchResult:
        """Apply the next batch of events to `generation` (default: the live one).

        With `switch_when_caught_up`, a batch of the building generation that reaches the
        head makes it live in the same transaction.
        """
        projection = self.projection(name)
        size = batch_size or self.batch_size
        with self._writer.begin() as conn:
            lock_for_transaction(conn, f"projection:{name}")
            live, building = bk.get_state(conn, name)
            target = live if generation is None else generation
            if switch_when_caught_up and target == live:
                # Another rebuild of the same generation switched it already.
                checkpoint = bk.get_checkpoint(conn, name, target)
                return BatchResult(name, target, 0, checkpoint, caught_up=True, switched=True)
            result = self._process(conn, projection, target, size)
            finished = result.caught_up and result.retry_after is None
            if switch_when_caught_up and finished and target == building:
                bk.set_state(conn, name, live=target, building=None, now=self.clock())
                result = BatchResult(**{**result.__dict__, "switched": True})
        return result

    def _process(
        self, conn: sa.Connection, projection: Projection, generation: int, size: int,
    ) -> BatchResult:
        name = projection.name
        checkpoint = bk.get_checkpoint(conn, name, generation)
        # The window is the next `size` log positions, read up to the head seen first: positions
        # are handed out in commit order, so everything up to that head is committed and visible.
        head = head_position(conn)
        end = min(head, checkpoint + size)
        if end <= checkpoint:
            return BatchResult(name, generation, 0, checkpoint, caught_up=True)
        # Only the events this projection has projectors for: the others change nothing here.
        events = read_events(conn, checkpoint, until=end, types=projection.event_types)
        # Fewer positions than asked for: this batch reads up to the head.
        return self._apply_window(conn, projection, generation, checkpoint, events, end,
                                  caught_up=head - checkpoint < size)

    def _apply_window(
        self, conn: sa.Connection, projection: Projection, generation: int, checkpoint: int,
        events: list[StoredEvent], end: int, *, caught_up: bool,
    ) -> BatchResult:
        """Apply `events`, the projection's events of the log window (checkpoint, end], and move
        its checkpoint (to `end` when nothing failed)."""
        try:
            # Optimistic: one savepoint and grouped statements for the whole batch.
            with conn.begin_nested():
                result = self._walk(conn, projection, generation, checkpoint, events, end,
                                    caught_up=caught_up, careful=False)
        except _Retry:
            # One event's SQL failed: find it, with a savepoint per event.
            result = self._walk(conn, projection, generation, checkpoint, events, end,
                                caught_up=caught_up, careful=True)
        if result.checkpoint > checkpoint:
            bk.set_checkpoint(conn, projection.name, generation, result.checkpoint, self.clock())
        return result

    def _walk(
        self, conn: sa.Connection, projection: Projection, generation: int, checkpoint: int,
        events: list[StoredEvent], end: int, *, caught_up: bool, careful: bool,
    ) -> BatchResult:
        name = projection.name
        now = self.clock()
        parked = bk.parked_streams(conn, name)
        failing = bk.failures(conn, name)
        pending: list[Op] = []
        done, parked_count, retry_after = checkpoint, 0, None
        for event in events:
            position = event.global_position
            root = parked.get(event.stream_id)
            if root is not None and root < position:
                # Keep the stream's order: hold this event behind its parked predecessor.
                bk.park(conn, name, event, attempts=0, error=f"held behind parked event {root}",
                        now=now, held_behind=root)
                parked_count += 1
                done = position
                continue
            if root == position:  # parked by another generation already: skip it here too
                done = position
                continue
            prior = failing.get(position)
            if prior is not None:
                wait = (prior[1] + timedelta(seconds=self.policy.delay(prior[0])) - now).total_seconds()
                if wait > 0:
                    retry_after = wait
                    # The positions before it hold nothing more for this projection.
                    done = position - 1
                    break
            error = self._apply_event(conn, projection, event, generation, pending, careful)
            if error is None:
                if prior is not None:
                    bk.clear_failure(conn, name, position)
                done = position
                continue
            attempts = (prior[0] if prior else 0) + 1
            if attempts < self.policy.max_attempts:
                log.warning("projection %s: event %s failed (attempt %s/%s): %s",
                            name, position, attempts, self.policy.max_attempts, error)
                bk.record_failure(conn, name, position, attempts, error, now)
                retry_after = self.policy.delay(attempts)
                done = position - 1
                break
            log.error("projection %s: event %s parked after %s attempts: %s", name, position, attempts, error)
            bk.park(conn, name, event, attempts=attempts, error=error, now=now)
            parked[event.stream_id] = position
            parked_count += 1
            done = position
        if retry_after is None:
            # The rest of the window holds no event of this projection's types.
            done = end
        if pending:
            try:
                apply_ops(conn, pending, generation)
            except Exception as exc:
                if _is_event_failure(exc):
                    raise _Retry from exc
                raise
        caught_up = caught_up and retry_after is None
        return BatchResult(name, generation, done - checkpoint, done, caught_up, parked_count, retry_after)

    def _apply_event(
        self, conn: sa.Connection, projection: Projection, event: StoredEvent, generation: int,
        pending: list[Op], careful: bool,
    ) -> str | None:
        """Apply (or queue) one event's operations; the error text when it fails."""
        try:
            ops = projection.project(event)
        except Exception as exc:  # a projector bug or a payload that does not decode: this event fails
            # A decode error names its cause (parked as the reason); a projector bug keeps its traceback.
            log.debug("projector failed", exc_info=not isinstance(exc, EventDecodeError))
            return _describe(exc)
        if not careful:
            pending.extend(ops)
            return None
        try:
            with conn.begin_nested():
                apply_ops(conn, ops, generation)
        except Exception as exc:
            if not _is_event_failure(exc):
                raise
            return _describe(exc)
        return None

    # --- catching up ----------------------------------------------------------------------------

    def catch_up(
        self, name: str, target: int | None = None, *, time_budget: float | None = None,
        generation: int | None = None,
    ) -> CatchUpResult:
        """Run batches until the head (or `target`) is reached, a failing event asks to wait,
        or `time_budget` seconds are spent (keeps a Celery task well under its visibility
        timeout; the caller publishes a continuation)."""
        deadline = None if time_budget is None else time.monotonic() + time_budget
        processed = batches = 0
        while True:
            result = self.run_batch(name, generation=generation)
            batches += 1
            processed += result.processed
            reached = target is not None and result.checkpoint >= target
            out_of_time = deadline is not None and time.monotonic() >= deadline
            if result.caught_up or reached or result.retry_after is not None or out_of_time:
                return CatchUpResult(
                    name, result.generation, result.checkpoint, processed, batches,
                    caught_up=result.caught_up or reached, retry_after=result.retry_after,
                )

    # --- rebuild --------------------------------------------------------------------------------

    def start_rebuild(self, name: str) -> tuple[int, int]:
        """Reserve generation N+1 (or resume the rebuild in progress): (live, building)."""
        projection = self.projection(name)
        with self._writer.begin() as conn:
            lock_for_transaction(conn, f"projection:{name}")
            live, building = bk.get_state(conn, name)
            if building is not None:
                return live, building
            used = conn.execute(
                sa.select(sa.func.max(projection_checkpoints.c.generation))
                .where(projection_checkpoints.c.name == name)
            ).scalar()
            building = max(live, int(used or 0)) + 1
            # Leftovers of an abandoned build or of an interrupted clean-up.
            delete_generations_except(conn, projection.tables, keep=[live])
            conn.execute(projection_checkpoints.delete().where(
                projection_checkpoints.c.name == name, projection_checkpoints.c.generation != live,
            ))
            bk.set_state(conn, name, live=live, building=building, now=self.clock())
        return live, building

    def rebuild(
        self, name: str, *, batch_size: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> RebuildResult:
        """Build the next generation from event 0 beside the live one, switch, clean up.

        The live generation keeps serving (and keeps being updated by the workers) until the
        switch, which happens in the transaction of the batch that reaches the head.
        `progress(checkpoint, head)` is called after every batch.
        """
        report = None if progress is None else (lambda _name, checkpoint, head: progress(checkpoint, head))
        return self.rebuild_all([name], batch_size=batch_size, progress=report)[0]

    def rebuild_all(
        self, names: Iterable[str], *, batch_size: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[RebuildResult]:
        """Rebuild several projections together from one read of the log.

        Each batch reads the next window of log positions once, with only the event types some
        projection being rebuilt handles, and applies it to every one of them in one
        transaction (holding their locks in name order, as a live batch holds one): each
        projection keeps its own checkpoint and switches in the transaction of the batch that
        reaches the head, as `rebuild` does for one. `progress(name, checkpoint, head)` is
        called after every batch. Afterwards the old rows are deleted and, on PostgreSQL, the
        tables vacuumed and analysed: the new generation replaced every row, so the planner's
        statistics are stale and half the tuples dead.
        """
        projections = [self.projection(name) for name in dict.fromkeys(names)]
        size = batch_size or self.batch_size
        started = time.monotonic()
        generations = {p.name: self.start_rebuild(p.name) for p in projections}
        counted = {p.name: 0 for p in projections}
        finished: dict[str, int] = {}  # name -> its checkpoint at the switch
        while len(finished) < len(projections):
            results, retry_after = self._rebuild_batch(
                [p for p in projections if p.name not in finished], generations, size,
            )
            for result in results:
                counted[result.name] += result.processed
                if result.switched:
                    finished[result.name] = result.checkpoint
            if progress is not None:
                with self.engine.connect() as conn:
                    head = head_position(conn)
                for result in results:
                    progress(result.name, result.checkpoint, head)
            if retry_after is not None:
                time.sleep(retry_after)
        for p in projections:
            generation = generations[p.name][1]
            with self._writer.begin() as conn:
                lock_for_transaction(conn, f"projection:{p.name}")
                delete_generations_except(conn, p.tables, keep=[generation])
                conn.execute(projection_checkpoints.delete().where(
                    projection_checkpoints.c.name == p.name,
                    projection_checkpoints.c.generation != generation,
                ))
        self._refresh_statistics([table for p in projections for table in p.tables])
        seconds = time.monotonic() - started
        return [
            RebuildResult(p.name, generations[p.name][0], generations[p.name][1], finished[p.name],
                          counted[p.name], seconds)
            for p in projections
        ]

    def _rebuild_batch(
        self, projections: list[Projection], generations: Mapping[str, tuple[int, int]], size: int,
    ) -> tuple[list[BatchResult], float | None]:
        """One window of the log, read once, applied to every building generation of
        `projections`; their results, and how long to wait when an event asks to."""
        results: list[BatchResult] = []
        waits: list[float] = []
        with self._writer.begin() as conn:
            for p in sorted(projections, key=lambda p: p.name):
                lock_for_transaction(conn, f"projection:{p.name}")
            active: list[tuple[Projection, int, int]] = []
            for p in projections:
                live, _ = bk.get_state(conn, p.name)
                generation = generations[p.name][1]
                checkpoint = bk.get_checkpoint(conn, p.name, generation)
                if generation == live:
                    # Another rebuild of the same generation switched it already.
                    results.append(
                        BatchResult(p.name, generation, 0, checkpoint, caught_up=True, switched=True))
                    continue
                active.append((p, generation, checkpoint))
            if not active:
                return results, None
            start = min(checkpoint for _, _, checkpoint in active)
            head = head_position(conn)
            end = min(head, start + size)
            # None: some projection reads every event (the subject index)
            wanted = [p.event_types for p, _, _ in active]
            types = None if None in wanted else set().union(*(t for t in wanted if t is not None))
            events = read_events(conn, start, until=end, types=types) if end > start else []
            for p, generation, checkpoint in active:
                # A projection already past this window (an earlier, interrupted run) skips it.
                handled = p.event_types
                mine = [e for e in events if e.global_position > checkpoint
                        and (handled is None or e.event_type in handled)]
                result = self._apply_window(conn, p, generation, checkpoint, mine, max(end, checkpoint),
                                            caught_up=end >= head)
                if result.caught_up and result.retry_after is None:
                    bk.set_state(conn, p.name, live=generation, building=None, now=self.clock())
                    result = BatchResult(**{**result.__dict__, "switched": True})
                if result.retry_after is not None:
                    waits.append(result.retry_after)
                results.append(result)
        return results, min(waits) if waits else None

    def _refresh_statistics(self, tables: Iterable[str]) -> None:
        """VACUUM ANALYZE `tables` (PostgreSQL; outside a transaction, as VACUUM must be)."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in dict.fromkeys(tables):
                conn.exec_driver_sql(f'VACUUM (ANALYZE) "{read_model_table(table).name}"')

    # --- parked events --------------------------------------------------------------------------

    def parked(self, name: str | None = None) -> list[sa.Row[Any]]:
        query = sa.select(dead_letters).order_by(dead_letters.c.name, dead_letters.c.global_position)
        if name is not None:
            query = query.where(dead_letters.c.name == self.projection(name).name)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def retry_parked(self, name: str, position: int | None = None) -> RetryResult:
        """Replay parked events of `name` in position order and unpark those that apply.

        With `position`, only that parked event and the events held behind it. Events are
        applied to every generation that already went past them (the live one, and a
        rebuild in progress); a generation that has not reached them yet will simply apply
        them in order now that they are no longer parked.
        """
        projection = self.projection(name)
        result = RetryResult(name)
        with self._writer.begin() as conn:
            lock_for_transaction(conn, f"projection:{name}")
            query = sa.select(dead_letters).where(dead_letters.c.name == name)
            if position is not None:
                row = conn.execute(query.where(dead_letters.c.global_position == position)).first()
                if row is None:
                    return result
                if row.held_behind is not None:
                    raise ParkedEventNotRoot(
                        f"event {position} is held behind parked event {row.held_behind}: retry that one"
                    )
                query = query.where(sa.or_(
                    dead_letters.c.global_position == position, dead_letters.c.held_behind == position,
                ))
            rows = list(conn.execute(query.order_by(dead_letters.c.global_position)))
            live, building = bk.get_state(conn, name)
            checkpoints = {g: bk.get_checkpoint(conn, name, g) for g in (live, building) if g is not None}
            now = self.clock()
            failed_root: dict[str, int] = {}  # stream -> the event that failed again in this replay
            for row in rows:
                if row.stream_id in failed_root:
                    conn.execute(dead_letters.update().where(
                        dead_letters.c.name == name, dead_letters.c.global_position == row.global_position,
                    ).values(held_behind=failed_root[row.stream_id]))
                    result.still_parked.append(row.global_position)
                    continue
                event = bk.read_event(conn, row.global_position)
                error = None
                try:
                    with conn.begin_nested():
                        ops = projection.project(event) if event is not None else []
                        for generation, checkpoint in checkpoints.items():
                            if checkpoint >= row.global_position:
                                apply_ops(conn, ops, generation)
                except Exception as exc:
                    if isinstance(exc, sa.exc.SQLAlchemyError) and not _is_event_failure(exc):
                        raise
                    error = _describe(exc)
                where = (dead_letters.c.name == name, dead_letters.c.global_position == row.global_position)
                if error is None:
                    conn.execute(dead_letters.delete().where(*where))
                    result.replayed.append(row.global_position)
                else:
                    conn.execute(dead_letters.update().where(*where).values(
                        attempts=row.attempts + 1, error=error, held_behind=None, parked_at=now,
                    ))
                    failed_root[row.stream_id] = row.global_position
                    result.still_parked.append(row.global_position)
        return result

    def retry_all_parked(self, names: Iterable[str] | None = None) -> list[RetryResult]:
        return [self.retry_parked(name) for name in (names or self.names)]
