"""Search: wake the relay when outbox rows are committed.

Reviewed by hand: a statement-level trigger sends NOTIFY on the `search_outbox` channel after every
INSERT into the outbox. PostgreSQL delivers it when the transaction commits (never on rollback,
and once per transaction however many statements notified), so the worker sends a change as soon
as it is committed instead of at its next one-second round, which stays as the fallback.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:00:00.000000
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('search_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")
