"""Server-side sessions and sign-in attempts.

Reviewed by hand. Sessions were only a signed cookie, so nothing could end one before it expired;
now a session is a row the server can end. Sign-in failures were counted in one process's memory;
now every app process counts them in PostgreSQL. Existing cookie sessions simply stop working:
people sign in once more.

Revision ID: 0012_sessions
Revises: 0011_failed_emails
Create Date: 2026-11-29 23:20:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012_sessions'
down_revision = '0011_failed_emails'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('organization_id', sa.Uuid(), nullable=True),
        sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column('csrf_token', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
    )
    op.create_index(op.f('ix_web_sessions_ended_at'), 'web_sessions', ['ended_at'], unique=False)
    op.create_index(
        'ix_web_sessions_user_open', 'web_sessions', ['user_id'], unique=False, postgresql_where=sa.text('ended_at IS NULL')
    )
    op.create_table(
        'sign_in_attempts',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('address', postgresql.INET(), nullable=True),
        sa.Column('attempted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts')),
    )
    op.create_index('ix_sign_in_attempts_email', 'sign_in_attempts', ['email', 'attempted_at'], unique=False)
    op.create_index('ix_sign_in_attempts_address', 'sign_in_attempts', ['address', 'attempted_at'], unique=False)
    op.create_index(op.f('ix_sign_in_attempts_attempted_at'), 'sign_in_attempts', ['attempted_at'], unique=False)


def downgrade() -> None:
    op.drop_table('sign_in_attempts')
    op.drop_table('web_sessions')
