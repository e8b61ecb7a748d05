"""Retracted worker runs (issue 14): their read model.

Revision ID: 0009
Revises: 0006

`rm_retracted_runs` (projections/tables.py) belongs to the `documents` projection: the runs
whose signed objects the listings hide. Derived data: a rebuild re-fills it from
`WorkerRunRetracted` events. Frozen like the others: written out with `op.create_table`.
"""

import sqlalchemy as sa
from alembic import op

from eventstore.schema import UTCDateTime

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_retracted_runs",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("retracted_by", sa.String(length=36), nullable=False),
        sa.Column("retracted_at", UTCDateTime(), nullable=False),
        sa.Column("retracted_position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("generation", "run_id", name=op.f("pk_rm_retracted_runs")),
    )


def downgrade() -> None:
    op.drop_table("rm_retracted_runs")
