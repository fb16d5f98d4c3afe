"""The job queue: Procrastinate's schema, and the jobs deferred from the transactions that give them work.

1. Procrastinate's own schema (its tables `procrastinate_*`, types, functions and triggers), as the
   pinned release ships it (pyproject.toml pins procrastinate to 3.10.x: a new minor release brings
   its own migration files, applied by a revision of ours).
2. `marketplace_defer_job(name)`: a run of the job is queued unless one is already waiting. Without
   a queueing lock, so concurrent transactions never wait on each other's uncommitted row; two runs
   queued at once are harmless (the job's lock runs them one after the other, and each finds its
   work done or not).
3. The search outbox (its NOTIFY of revision 0007 replaced) and the e-mail queue defer their job in
   the transaction that inserts rows: committed work always has a run coming, a rolled-back one none.
4. A retry gives way to a run already waiting: when a failed or stalled run of a periodic job is put
   back while the next period's run waits under the same queueing lock, the retry is recorded as
   failed instead of breaking that lock's uniqueness (the waiting run does the same work).

Revision ID: 0026_procrastinate
Revises: 0025_request_ids
Create Date: 2026-11-30
"""

from alembic import context, op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision = "0026_procrastinate"
down_revision = "0025_request_ids"
branch_labels = None
depends_on = None

DEFERRED_BY_INSERTS = {"outbox": "relay_search_outbox", "outgoing_emails": "send_queued_emails"}


def upgrade() -> None:
    if context.is_offline_mode():
        op.execute(SchemaManager.get_schema())
    else:
        # Many statements in one: asyncpg runs them only outside a prepared statement.
        await_only(op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema()))
    op.execute(
        """
        CREATE FUNCTION marketplace_defer_job(job text) RETURNS void LANGUAGE sql AS $$
            INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args)
            SELECT 'default', job, job, '{}'
            WHERE NOT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE task_name = job AND status = 'todo')
        $$
        """
    )
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION outbox_notify()")
    for table, job in DEFERRED_BY_INSERTS.items():
        op.execute(
            f"""
            CREATE FUNCTION {table}_defer_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM marketplace_defer_job('{job}');
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_defer_job AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_defer_job()"
        )
    op.execute(
        """
        CREATE FUNCTION marketplace_retry_gives_way() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM procrastinate_jobs
                WHERE queueing_lock = NEW.queueing_lock AND status = 'todo' AND id <> NEW.id
            ) THEN
                NEW.status := 'failed';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER marketplace_retry_gives_way BEFORE UPDATE OF status ON procrastinate_jobs
        FOR EACH ROW WHEN (NEW.status = 'todo' AND OLD.status <> 'todo' AND NEW.queueing_lock IS NOT NULL)
        EXECUTE FUNCTION marketplace_retry_gives_way()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER marketplace_retry_gives_way ON procrastinate_jobs")
    op.execute("DROP FUNCTION marketplace_retry_gives_way()")
    for table in DEFERRED_BY_INSERTS:
        op.execute(f"DROP TRIGGER {table}_defer_job ON {table}")
        op.execute(f"DROP FUNCTION {table}_defer_job()")
    op.execute("DROP FUNCTION marketplace_defer_job(text)")
    op.execute(
        """
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('search_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()")
    # Procrastinate's objects, all named procrastinate_*: tables (with their triggers), then what
    # remains of its functions and types.
    op.execute(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP TABLE %I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c') LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END $$
        """
    )
