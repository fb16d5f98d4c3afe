"""Queued e-mails the worker gives up on are moved aside: `failed_at`, with `last_error`.

Reviewed by hand. Rows that already used up their attempts (8) were left unsent and never tried
again; they are marked failed now so the platform admin sees them. The due index skips failed rows.

Revision ID: 0011_failed_emails
Revises: 0010_state_guards
Create Date: 2026-11-29 22:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_failed_emails'
down_revision = '0010_state_guards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outgoing_emails', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outgoing_emails SET failed_at = now() WHERE sent_at IS NULL AND attempts >= 8")
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails', postgresql_where=sa.text('sent_at IS NULL'))
    op.create_index(
        'ix_outgoing_emails_due',
        'outgoing_emails',
        ['next_attempt_at'],
        unique=False,
        postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'),
    )
    op.create_index(
        'ix_outgoing_emails_failed', 'outgoing_emails', ['failed_at'], unique=False, postgresql_where=sa.text('failed_at IS NOT NULL')
    )


def downgrade() -> None:
    op.drop_index('ix_outgoing_emails_failed', table_name='outgoing_emails')
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails')
    op.create_index('ix_outgoing_emails_due', 'outgoing_emails', ['next_attempt_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_column('outgoing_emails', 'failed_at')
