"""Every layer's table models, gathered for the one check that needs all of them at once.

The migrations (eventstore/migrations) are frozen `op.create_table` scripts and import no model;
tests/test_migrations.py compares a freshly migrated database with these models, so a model
changed without a migration (or the reverse) fails the suite.
"""

from __future__ import annotations

import sqlalchemy as sa

from api.ui import tables as ui_tables
from eventstore import schema as event_store
from integrations import tables as integration_tables
from projections import image_tables as image_read_models  # issue 10
from projections import tables as read_models

LAYERS: tuple[sa.MetaData, ...] = (
    event_store.metadata, read_models.metadata, image_read_models.metadata, integration_tables.metadata,
    ui_tables.metadata,
)

#: Made by migrations in raw SQL because SQLAlchemy cannot declare them portably (PostgreSQL's
#: trigram index on worker names); the comparison leaves them out.
RAW_SQL_INDEXES = frozenset({"ix_rm_workers_name_trgm"})


def combined_metadata() -> sa.MetaData:
    combined = sa.MetaData()
    # The read models share the event store's MetaData object: copy each table once.
    for layer in {id(layer): layer for layer in LAYERS}.values():
        for table in layer.tables.values():
            table.to_metadata(combined)
    return combined
