"""Thread steps: a message may carry the step of its subject it was written with (a match
request's "request_info", "accept", …; a need response's "shortlist", …), so the questions,
answers, notes and reasons of the steps are read in the conversation, in order with the messages.

Reviewed by hand. Going up copies every step already taken from the audit trail into its
subject's thread (creating the thread if it had none), at the time it was taken, with its reason
as the text; a reader who had read the whole thread keeps it read. Going down removes the step
messages.

Revision ID: 0021_thread_steps
Revises: 0020_profiles
Create Date: 2026-11-30 11:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = "0021_thread_steps"
down_revision = "0020_profiles"
branch_labels = None
depends_on = None

MATCH_STEPS = (
    "review",
    "request_info",
    "provide_info",
    "accept",
    "decline",
    "start_negotiation",
    "agree",
    "close_no_deal",
    "withdraw",
    "accept_nda",
)
RESPONSE_STEPS = ("shortlist", "select", "decline", "withdraw")
# The decline the system writes on the other responses when one is selected (needs/responses.py).
OTHER_SELECTED = "another proposal was selected"


def _in(prefix: str, steps: tuple[str, ...]) -> str:
    return ", ".join(f"'{prefix}_{step}'" for step in steps)


# Every step taken so far, from the audit trail (machine.name + "_" + action; both prefixes are 14 long).
STEPS = f"""
    SELECT 'match_request' AS kind, r.id AS subject_id, e.id AS event_id, e.occurred_at, u.id AS author,
           CASE WHEN e.organization_id = r.institution_id THEN 'institution' ELSE 'company' END AS side,
           substring(e.action FROM 15) AS step, left(coalesce(e.data->>'reason', ''), 10000) AS body
    FROM audit_events e
    JOIN match_requests r ON e.subject_type = 'match_requests' AND e.subject_id = r.id::text
    LEFT JOIN users u ON u.id = e.actor_user_id
    WHERE e.action IN ({_in("match_request", MATCH_STEPS)})
    UNION ALL
    SELECT 'need_response', r.id, e.id, e.occurred_at, u.id,
           CASE WHEN e.organization_id = r.institution_id THEN 'institution' ELSE 'company' END,
           CASE WHEN e.data->>'reason' = '{OTHER_SELECTED}' THEN 'decline_other_selected'
                ELSE substring(e.action FROM 15) END,
           CASE WHEN e.data->>'reason' = '{OTHER_SELECTED}' THEN ''
                ELSE left(coalesce(e.data->>'reason', ''), 10000) END
    FROM audit_events e
    JOIN need_responses r ON e.subject_type = 'need_responses' AND e.subject_id = r.id::text
    LEFT JOIN users u ON u.id = e.actor_user_id
    WHERE e.action IN ({_in("need_response", RESPONSE_STEPS)})
"""

THREADS = f"""
WITH steps AS ({STEPS})
INSERT INTO threads (id, subject_kind, subject_id, created_at)
SELECT gen_random_uuid(), kind, subject_id, min(occurred_at) FROM steps GROUP BY kind, subject_id
ON CONFLICT ON CONSTRAINT uq_threads_subject DO NOTHING
"""

MESSAGES = f"""
WITH steps AS ({STEPS})
INSERT INTO thread_messages (id, thread_id, author_user_id, author_side, body, step, created_at)
SELECT gen_random_uuid(), t.id, s.author, s.side, s.body, s.step, s.occurred_at
FROM steps s JOIN threads t ON t.subject_kind = s.kind AND t.subject_id = s.subject_id
ORDER BY s.occurred_at, s.event_id
"""

# Whoever had read every message before the steps were copied has read the copies too.
KEEP_READ = """
UPDATE thread_read_markers m SET last_read_seq = s.last_step
FROM (
    SELECT thread_id, max(seq) FILTER (WHERE step IS NOT NULL) AS last_step,
           coalesce(max(seq) FILTER (WHERE step IS NULL), 0) AS last_message
    FROM thread_messages GROUP BY thread_id
) s
WHERE m.thread_id = s.thread_id AND s.last_step IS NOT NULL AND m.last_read_seq >= s.last_message
"""

LAST_MESSAGE = """
UPDATE threads t SET last_message_at = s.last
FROM (SELECT thread_id, max(created_at) AS last FROM thread_messages GROUP BY thread_id) s
WHERE t.id = s.thread_id AND (t.last_message_at IS NULL OR t.last_message_at < s.last)
"""


def upgrade() -> None:
    op.add_column("thread_messages", sa.Column("step", sa.String(length=40), nullable=True))
    op.execute(THREADS)
    op.execute(MESSAGES)
    op.execute(KEEP_READ)
    op.execute(LAST_MESSAGE)


def downgrade() -> None:
    op.execute("DELETE FROM thread_messages WHERE step IS NOT NULL")
    op.drop_column("thread_messages", "step")
