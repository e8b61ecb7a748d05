"""Tables of password sign-in (issue 10 B; migration 0008). Operational state, not derived
data, so not rebuilt from the events:

- `user_passwords`: one argon2 hash per user. A hash is a secret: it is kept out of the
  append-only event log (which the CLI tails, backups copy and nothing can erase); the log
  records only that the password changed (`UserPasswordSet`).
- `login_failures`: failed sign-ins per key (an email, a client address) in a fixed window,
  shared by every API process (api/users/login_throttle.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from api.ui.tables import metadata
from eventstore.schema import UTCDateTime

user_passwords = sa.Table(
    "user_passwords",
    metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    #: "email:<lowercased email>" or "ip:<address>"
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", UTCDateTime, nullable=False),
)
