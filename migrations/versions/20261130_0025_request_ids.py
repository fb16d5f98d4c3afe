"""The request id on the search outbox and the e-mail queue: a change's path from the request that
made it (marketplace.logs) to the worker that carries it out. Nullable, no default: adding them
rewrites nothing.

Revision ID: 0025_request_ids
Revises: 0024_integrations
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_request_ids"
down_revision = "0024_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.add_column("outgoing_emails", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("outgoing_emails", "request_id")
    op.drop_column("outbox", "request_id")
