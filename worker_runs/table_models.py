"""Every layer's table models, gathered for the one check that needs all of them at once.

The migrations (eventstore/migrations) are frozen `op.create_table` scripts and import no model;
tests/integration/test_migrations.py compares a freshly migrated database with these models, so a model
changed without a migration (or the reverse) fails the suite.
"""

from __future__ import annotations

import sqlalchemy as sa

from api.ui import tables as ui_tables

# The read models declare their tables on the event store's MetaData: imported to register them.
from api.users import sign_in_tables as _sign_in  # noqa: F401 - registers user_passwords, login_failures
from eventstore import schema as event_store
from integrations import tables as integration_tables
from projections import element_tree_tables, image_tables, tables  # noqa: F401

LAYERS: tuple[sa.MetaData, ...] = (event_store.metadata, integration_tables.metadata, ui_tables.metadata)

#: Made by migrations in raw SQL because SQLAlchemy cannot declare them portably (PostgreSQL's
#: trigram index on worker names, with the generation where btree_gin is available: migration
#: 0011); the comparison leaves them out.
RAW_SQL_INDEXES = frozenset({"ix_rm_workers_name_trgm", "ix_rm_workers_generation_name_trgm"})


def combined_metadata() -> sa.MetaData:
    combined = sa.MetaData()
    for layer in LAYERS:
        for table in layer.tables.values():
            table.to_metadata(combined)
    return combined
