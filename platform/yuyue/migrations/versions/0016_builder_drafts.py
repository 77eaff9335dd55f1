"""booking-type builder: unpublished drafts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:00:00.000000
"""

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
