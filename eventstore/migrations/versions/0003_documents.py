"""Document read models (corpora, elements, transcriptions, classifications, metadata).

Revision ID: 0003
Revises: 0002
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in with the document projection's tables (issue 5).
    pass


def downgrade() -> None:
    pass
