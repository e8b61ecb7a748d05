"""The frozen migrations create exactly what the table models declare, on every backend."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from eventstore.migrate import alembic_config, upgrade
from worker_runs.table_models import RAW_SQL_INDEXES, combined_metadata


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in RAW_SQL_INDEXES)


def test_a_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include},
        )
        differences = compare_metadata(context, combined_metadata())
    assert differences == []


def test_the_comparison_sees_a_model_without_its_migration(engine: Engine) -> None:
    """Control: the check above is able to fail."""
    metadata = combined_metadata()
    sa.Table("rm_not_migrated", metadata, sa.Column("id", sa.Integer, primary_key=True))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _include})
        differences = compare_metadata(context, metadata)
    assert [d[0] for d in differences] == ["add_table"]
    assert differences[0][1].name == "rm_not_migrated"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_migrations_go_down_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _include})
        assert compare_metadata(context, combined_metadata()) == []
