"""SQLite: REPLACE cannot rewrite an event or repoint an alias.

Revision ID: 0006
Revises: 0008

SQLite's `REPLACE INTO` / `INSERT OR REPLACE` resolves a uniqueness conflict by deleting the
existing row and inserting the new one, and its delete does not fire the DELETE triggers of
0001 (only with `recursive_triggers`, a per-connection setting another client need not set).
So `REPLACE INTO events` rewrote an event and `INSERT OR REPLACE INTO stream_aliases` repointed
a token alias. These BEFORE INSERT guards refuse, in the database file itself (any client),
an insert that collides with an existing row; the REPLACE never gets to delete it. A plain
colliding INSERT is refused as before, as a constraint error (the event store's concurrency
check). PostgreSQL has no REPLACE: its 0001 triggers already cover every path.
"""

from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

#: table -> the condition under which a new row would collide with an existing one
_COLLISIONS = {
    "events": (
        "EXISTS (SELECT 1 FROM events WHERE global_position = NEW.global_position) "
        "OR EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id) "
        "OR EXISTS (SELECT 1 FROM events WHERE stream_id = NEW.stream_id "
        "AND stream_version = NEW.stream_version)"
    ),
    "stream_aliases": "EXISTS (SELECT 1 FROM stream_aliases WHERE alias = NEW.alias)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, collision in _COLLISIONS.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {collision} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: a row with this key exists'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _COLLISIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
