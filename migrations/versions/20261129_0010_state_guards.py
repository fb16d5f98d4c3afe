"""State guards generated from the state machines' declarations (marketplace/states.py).

Reviewed by hand. Each block below is the literal output of `states.trigger_sql(machine)` for one
machine (migrations never import app code, which changes later): a trigger that lets a row start
only in the machine's initial states and change state only along its declared moves.
tests/test_states.py checks the installed guards against the declarations, so a declaration
changed without a new migration (or the other way round) fails the suite. Listings get a guard for
the first time; they may be inserted in any status (the demo data, imports and the benchmark seed
them so), so only their moves are guarded.

Revision ID: 0010_state_guards
Revises: 0009
Create Date: 2026-11-29 20:30:00.000000
"""

from alembic import op

revision = '0010_state_guards'
down_revision = '0009'
branch_labels = None
depends_on = None

# listings.status: machine `listing`
LISTINGS = (
    """
    CREATE OR REPLACE FUNCTION listings_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NOT NEW.status = ANY (ARRAY['archived', 'draft', 'pending_review', 'published', 'withdrawn']) THEN
                RAISE EXCEPTION 'listings: a row starts as archived or draft or pending_review or published or withdrawn, not %', NEW.status
                    USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.status IS DISTINCT FROM OLD.status
              AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY['archived>draft', 'draft>archived', 'draft>pending_review', 'draft>published', 'pending_review>archived', 'pending_review>draft', 'pending_review>published', 'published>archived', 'published>withdrawn', 'withdrawn>archived', 'withdrawn>published']) THEN
            RAISE EXCEPTION 'listings: cannot move from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    'DROP TRIGGER IF EXISTS listings_state_moves ON listings',
    """
    CREATE TRIGGER listings_state_moves BEFORE INSERT OR UPDATE OF status ON listings
        FOR EACH ROW EXECUTE FUNCTION listings_state_moves()
    """,
)


def upgrade() -> None:
    for statement in LISTINGS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER listings_state_moves ON listings")
    op.execute("DROP FUNCTION listings_state_moves()")
