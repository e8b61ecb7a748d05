"""Group commit: concurrent appends of one process share a transaction, hence one fsync.

The position counter row is locked from an append's counter update until its COMMIT, and a
COMMIT waits for its WAL flush: one writer at a time, one fsync each, however many threads
write (issue 11 measured 1 and 16 writers at the same rate). Here the threads that append
while a transaction is in flight queue up; the next one to run takes the queue's head as a
*group* and sends every member's append statement in one transaction — BEGIN and all the
statements in one round trip (psycopg's pipeline mode, eventstore/store.py), then COMMIT. Positions are still
handed out under the counter lock, in commit order, so tailing readers see no gap.

Leader/follower, no extra thread: a caller that finds nobody committing leads — it runs groups
until its own append is done, then hands the lead to the oldest waiting caller. At one writer a
group is one append, committed exactly as before.

A member whose statement fails (a conflict) aborts the transaction: it is answered with its
error and the group runs again without it. Members that touch a stream, alias or command id of
an earlier member wait for the next group instead: at most one of them could succeed, and
racing them inside one transaction would rerun the group once per loser.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Member:
    """One append waiting for its group: what to send, then its outcome."""

    sql: str
    params: dict[str, Any]
    #: streams, aliases and command id it writes: members sharing one go to separate groups
    keys: frozenset[str]
    #: the id the append is looked up by when its COMMIT outcome is unknown (store.py)
    written: tuple[str | None, str | None] | None
    answer: Any = None
    error: BaseException | None = None
    _done: threading.Event = field(default_factory=threading.Event)
    _lead: bool = False

    def succeed(self, answer: Any) -> None:
        self.answer = answer
        self._done.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._done.set()


class GroupCommit:
    """Runs `commit(members)` for groups of queued members; `commit` must settle every member
    (`succeed` or `fail`) before it returns."""

    def __init__(self, commit: Callable[[Sequence[Member]], None], *, max_group: int = 64) -> None:
        self._commit = commit
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: deque[Member] = deque()
        self._leading = False

    def submit(self, member: Member) -> Any:
        """Queue `member`, wait until its group committed; its answer, or raise its error."""
        with self._lock:
            self._queue.append(member)
            lead = not self._leading
            self._leading = True
        if not lead:
            member._done.wait()
            lead = member._lead  # woken to take the lead, not with an outcome
        if lead:
            self._lead_until_done(member)
        if member.error is not None:
            raise member.error
        return member.answer

    def _lead_until_done(self, member: Member) -> None:
        member._done.clear()
        member._lead = False
        while True:
            with self._lock:
                group = self._take()
            try:
                self._commit(group)
            except BaseException as exc:  # commit settles members itself; this is a bug guard
                for m in group:
                    if not m._done.is_set():
                        m.fail(exc)
            if member._done.is_set():
                break
        with self._lock:
            if self._queue:
                # Hand over: the oldest waiting caller leads the next groups.
                successor = self._queue[0]
                successor._lead = True
                successor._done.set()
            else:
                self._leading = False

    def _take(self) -> list[Member]:
        """The next group: queue order, skipping members that share a key with an earlier one."""
        group: list[Member] = []
        taken: set[str] = set()
        kept: deque[Member] = deque()
        while self._queue and len(group) < self.max_group:
            m = self._queue.popleft()
            if m.keys & taken:
                kept.append(m)
                continue
            taken |= m.keys
            group.append(m)
        kept.extend(self._queue)
        self._queue = kept
        return group
