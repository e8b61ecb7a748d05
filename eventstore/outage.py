"""Which exceptions mean "the database is unavailable right now" (restart, failover, network).

One definition for every place that must outlive an outage: the long-lived loops (live
streams) retry on them, and the API answers them with 503 + Retry-After. A deadlock, a
missing table or a constraint violation is *not* an outage: it is raised as before.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

#: the exception classes an outage can take; `is_db_unavailable` decides on the instance
DB_UNAVAILABLE: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError)

#: SQLSTATE classes of an outage: 08 connection exception, 53 insufficient resources (too
#: many connections, disk full), 57 operator intervention (admin shutdown, crash, starting up)
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")
#: SQLite: busy/locked beyond the busy timeout, I/O error, cannot open the file
_SQLITE_OUTAGE_CODES = frozenset({5, 6, 10, 14})


def is_db_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True  # SQLAlchemy's dialect recognised a disconnect
    if not isinstance(exc, DB_UNAVAILABLE):
        return False
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None) in _SQLITE_OUTAGE_CODES
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return str(sqlstate)[:2] in _OUTAGE_SQLSTATE_CLASSES
    # psycopg raises its base OperationalError, with no SQLSTATE, when it cannot connect or
    # the server closed the connection; an InterfaceError is a connection already closed.
    return True
