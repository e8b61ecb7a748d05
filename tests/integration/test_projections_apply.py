"""The SQL applier (projections/apply.py) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from projections.apply import UnknownReadModel, apply_ops, delete_generation, delete_generations_except
from projections.ops import Update, Upsert
from projections.tables import rm_worker_access, rm_worker_versions, rm_workers

AT = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def worker(worker_id: str, name: str = "OCR", **overrides: object) -> Upsert:
    values = {"name": name, "slug": worker_id, "type": "ocr", "description": "", "repository_url": None,
              "owner_id": "u-1", "archived": False, "created_at": AT, "created_position": 1, **overrides}
    return Upsert("rm_workers", {"worker_id": worker_id}, values)


def workers(engine: Engine, generation: int = 1) -> dict[str, tuple[str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(rm_workers.c.worker_id, rm_workers.c.name, rm_workers.c.archived)
                            .where(rm_workers.c.generation == generation))
        return {r.worker_id: (r.name, r.archived) for r in rows}


def test_upsert_inserts_then_overwrites(engine: Engine) -> None:
    with engine.begin() as conn:
        apply_ops(conn, [worker("w-1"), worker("w-2", "Two")], 1)
    with engine.begin() as conn:
        apply_ops(conn, [worker("w-1", "Renamed")], 1)
    assert workers(engine) == {"w-1": ("Renamed", False), "w-2": ("Two", False)}


def test_update_sets_values_and_ignores_a_missing_row(engine: Engine) -> None:
    with engine.begin() as conn:
        apply_ops(conn, [worker("w-1"), Update("rm_workers", {"worker_id": "w-1"}, {"archived": True}),
                         Update("rm_workers", {"worker_id": "nope"}, {"archived": True})], 1)
    assert workers(engine) == {"w-1": ("OCR", True)}


def test_order_is_kept_for_writes_to_the_same_row(engine: Engine) -> None:
    """Upsert, update, upsert of one key in one call: grouping must not reorder them."""
    ops = [worker("w-1", "A"), worker("w-2", "B"), Update("rm_workers", {"worker_id": "w-1"}, {"name": "C"}),
           worker("w-1", "D"), worker("w-1", "E"), worker("w-3", "F")]
    with engine.begin() as conn:
        apply_ops(conn, ops, 1)
    assert workers(engine) == {"w-1": ("E", False), "w-2": ("B", False), "w-3": ("F", False)}


def test_applying_twice_changes_nothing(engine: Engine) -> None:
    ops = [worker("w-1"), Update("rm_workers", {"worker_id": "w-1"}, {"name": "N"}),
           Upsert("rm_worker_access", {"worker_id": "w-1", "user_id": "u-2"}, {})]
    for _ in range(2):
        with engine.begin() as conn:
            apply_ops(conn, ops, 1)
    assert workers(engine) == {"w-1": ("N", False)}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm_worker_access)).scalar() == 1


def test_generations_are_separate_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        apply_ops(conn, [worker("w-1", "live")], 1)
        apply_ops(conn, [worker("w-1", "next"), worker("w-2")], 2)
    assert workers(engine, 1) == {"w-1": ("live", False)}
    assert workers(engine, 2) == {"w-1": ("next", False), "w-2": ("OCR", False)}
    with engine.begin() as conn:
        assert delete_generation(conn, ["rm_workers"], 1) == 1
    assert workers(engine, 1) == {}
    with engine.begin() as conn:
        apply_ops(conn, [worker("w-9")], 7)
        assert delete_generations_except(conn, ["rm_workers"], keep=[2]) == 1
    assert set(workers(engine, 2)) == {"w-1", "w-2"}


def test_json_and_datetimes_round_trip(engine: Engine) -> None:
    op = Upsert("rm_worker_versions", {"version_id": "v-1"}, {
        "worker_id": "w-1", "number": 1, "configuration": {"nested": {"list": [1, 2]}},
        "docker_image_iid": None,
        "revision_url": None, "gpu_usage": "disabled", "model_usage": "disabled", "state": "available",
        "tag": None, "branch": None, "archived": False, "created_at": AT, "created_position": 3,
    })
    with engine.begin() as conn:
        change = Update("rm_worker_versions", {"version_id": "v-1"}, {"configuration": {"b": 2}})
        apply_ops(conn, [op, change], 1)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(rm_worker_versions.c.configuration, rm_worker_versions.c.created_at)
        ).one()
    assert row.configuration == {"b": 2}
    assert row.created_at == AT


def test_unknown_tables_and_columns_are_named_errors(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(UnknownReadModel):
            apply_ops(conn, [Upsert("events", {"global_position": 1}, {})], 1)
        with pytest.raises(UnknownReadModel):
            apply_ops(conn, [Update("rm_workers", {"worker_id": "w"}, {"colour": "red"})], 1)
