"""Tables of the web UI (migration 0005): the sign-outs a stateless cookie cannot express.

Session cookies are signed and carry their own issue time (api/ui/session.py), so the
server keeps no row per session. Signing out must nevertheless end the session everywhere,
including for a copy of the cookie: the session's id (the cookie's random nonce) is written
here, and cookie authentication refuses ids found here. A session expires on its own
`MAX_AGE_SECONDS` after it was issued, so a row older than that can never match a live
cookie and is purged (api/ui/revocations.py): the table stays as small as the number of
sign-outs in one session lifetime.

Operational state, not derived data: it is not rebuilt from the events (sign-in and
sign-out are not domain events).
"""

from __future__ import annotations

import sqlalchemy as sa

from eventstore.schema import NAMING_CONVENTION, UTCDateTime

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ui_session_revocations = sa.Table(
    "ui_session_revocations",
    metadata,
    # The primary key is the lookup index of every cookie-authenticated request.
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("revoked_at", UTCDateTime, nullable=False),
    # The purge deletes by age: a range scan, not a full scan, however many rows there are.
    sa.Index("ix_ui_session_revocations_revoked_at", "revoked_at"),
)

UI_TABLES = [ui_session_revocations]
