"""How projector operations are grouped into statements (projections/apply.py): one per table
and shape per batch, never reordering two writes of one table."""

from __future__ import annotations

from projections.apply import _groups
from projections.ops import LinkPaths, Update, Upsert


def _subject(position: int, subject: str) -> Upsert:
    return Upsert("event_subjects", {"subject_id": subject, "global_position": position}, {})


def _scope(position: int) -> Upsert:
    return Upsert("event_scopes", {"global_position": position}, {"scope_id": "public"})


def test_interleaved_tables_make_one_group_each() -> None:
    ops = [_subject(1, "a"), _subject(1, "b"), _scope(1), _subject(2, "a"), _scope(2), _subject(3, "c"),
           _scope(3)]
    groups = list(_groups(ops))
    assert groups == [[ops[0], ops[1], ops[3], ops[5]], [ops[2], ops[4], ops[6]]]


def test_every_tables_writes_keep_their_order() -> None:
    first, again = _scope(1), Upsert("event_scopes", {"global_position": 1}, {"scope_id": "u-1"})
    ops = [first, _subject(1, "a"), again, _subject(2, "b")]
    groups = list(_groups(ops))
    flat_scopes = [op for group in groups for op in group if op.table == "event_scopes"]
    assert flat_scopes == [first, again]  # the same key twice: two statements, in order
    assert sum(len(group) for group in groups) == len(ops)


def test_a_different_shape_of_one_table_starts_a_new_group() -> None:
    plain, first_wins = (
        Upsert("scope_readers", {"scope_id": "s", "user_id": user}, {"since_position": 1}, first_wins=wins)
        for user, wins in (("u", False), ("v", True))
    )
    assert list(_groups([plain, first_wins])) == [[plain], [first_wins]]


def test_an_update_runs_after_the_upsert_of_its_row_and_links_keep_their_order() -> None:
    a, b = _subject(1, "a"), _scope(1)
    update = Update("event_scopes", {"global_position": 1}, {"scope_id": "x"})
    link1, link2 = LinkPaths("rm_element_paths", "p", "c"), LinkPaths("rm_element_paths", "c", "d")
    after = _subject(2, "z")
    groups = list(_groups([a, b, update, link1, link2, after]))
    order = [op for group in groups for op in group]
    assert sorted(map(id, order)) == sorted(map(id, [a, b, update, link1, link2, after]))  # each once
    assert order.index(b) < order.index(update)  # the same row: in their order
    assert [link1, link2] in groups  # consecutive links run together, in order
    # a's table never meets the update: its upserts share one statement across the batch
    assert [a, after] in groups
