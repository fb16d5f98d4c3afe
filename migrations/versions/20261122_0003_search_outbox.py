"""Search: the outbox that carries listing changes to Meilisearch.

Reviewed by hand: the partial indexes serve the relay's claim (pending rows that are due, oldest
first) and its per-listing look-up; every listing already published gets a row, so an existing
database fills its index through the relay without a manual reindex.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:10:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_task_uid', sa.BigInteger(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("entity_type IN ('listing')", name=op.f('ck_outbox_entity_type')),
    sa.CheckConstraint("op IN ('upsert', 'delete')", name=op.f('ck_outbox_op')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_pending', 'outbox', ['next_attempt_at', 'id'], unique=False,
                    postgresql_where=sa.text('processed_at IS NULL'))
    op.create_index('ix_outbox_pending_entity', 'outbox', ['entity_type', 'entity_id'], unique=False,
                    postgresql_where=sa.text('processed_at IS NULL'))
    op.create_index('ix_outbox_created_at', 'outbox', ['created_at'], unique=False)
    op.execute(
        "INSERT INTO outbox (entity_type, entity_id, op) "
        "SELECT 'listing', id, 'upsert' FROM listings WHERE status = 'published' ORDER BY published_at, id"
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_created_at', table_name='outbox')
    op.drop_index('ix_outbox_pending_entity', table_name='outbox', postgresql_where=sa.text('processed_at IS NULL'))
    op.drop_index('ix_outbox_pending', table_name='outbox', postgresql_where=sa.text('processed_at IS NULL'))
    op.drop_table('outbox')
