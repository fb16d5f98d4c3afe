"""Threads: a conversation per match request (and later per need response), its messages, the
files attached to them, each reader's read marker; and the queue of outgoing e-mails.

Reviewed by hand. A thread names its subject by kind and id (a CHECK keeps the kinds known); a
new kind of subject adds its value to ck_threads_subject_kind.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 23:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('threads',
    sa.Column('subject_kind', sa.String(length=30), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("subject_kind IN ('match_request')", name=op.f('ck_threads_subject_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threads')),
    sa.UniqueConstraint('subject_kind', 'subject_id', name='uq_threads_subject')
    )
    op.create_table('thread_messages',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('author_user_id', sa.Uuid(), nullable=True),
    sa.Column('author_side', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("author_side IN ('company', 'institution')", name=op.f('ck_thread_messages_author_side')),
    sa.CheckConstraint('length(body) <= 10000', name=op.f('ck_thread_messages_body_length')),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_thread_messages_author_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_messages_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_messages')),
    sa.UniqueConstraint('seq', name=op.f('uq_thread_messages_seq'))
    )
    op.create_index('ix_thread_messages_thread_seq', 'thread_messages', ['thread_id', 'seq'], unique=False)
    op.create_table('thread_attachments',
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("extension IN ('pdf', 'docx', 'xlsx', 'pptx', 'png', 'jpg', 'txt', 'csv', 'zip')", name=op.f('ck_thread_attachments_extension')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_thread_attachments_size_positive')),
    sa.CheckConstraint('length(btrim(original_name)) > 0', name=op.f('ck_thread_attachments_name_given')),
    sa.ForeignKeyConstraint(['message_id'], ['thread_messages.id'], name=op.f('fk_thread_attachments_message_id_thread_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_attachments'))
    )
    op.create_index(op.f('ix_thread_attachments_message_id'), 'thread_attachments', ['message_id'], unique=False)
    op.create_table('thread_read_markers',
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('last_read_seq', sa.BigInteger(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_read_markers_thread_id_threads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_read_markers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'user_id', name=op.f('pk_thread_read_markers'))
    )
    op.create_table('outgoing_emails',
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_emails'))
    )
    op.create_index('ix_outgoing_emails_due', 'outgoing_emails', ['next_attempt_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outgoing_emails_due', table_name='outgoing_emails', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_table('outgoing_emails')
    op.drop_table('thread_read_markers')
    op.drop_index(op.f('ix_thread_attachments_message_id'), table_name='thread_attachments')
    op.drop_table('thread_attachments')
    op.drop_index('ix_thread_messages_thread_seq', table_name='thread_messages')
    op.drop_table('thread_messages')
    op.drop_table('threads')
