"""Threads: an institution's response to a need gets its own conversation (subject kind
`need_response`), beside the match request's.

Reviewed by hand. Going down removes the need-response threads (their messages, files' rows and
read markers cascade; the stored files stay in the attachments folder).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:00:00.000000
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f('ck_threads_subject_kind'), 'threads', type_='check')
    op.create_check_constraint(
        op.f('ck_threads_subject_kind'), 'threads', "subject_kind IN ('match_request', 'need_response')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM threads WHERE subject_kind = 'need_response'")
    op.drop_constraint(op.f('ck_threads_subject_kind'), 'threads', type_='check')
    op.create_check_constraint(op.f('ck_threads_subject_kind'), 'threads', "subject_kind IN ('match_request')")
