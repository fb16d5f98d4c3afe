"""State guards generated from the state machines' declarations (marketplace/states.py).

Reviewed by hand. Each block below is the literal output of `states.trigger_sql(machine)` for one
machine (migrations never import app code, which changes later): a trigger that lets a row start
only in the machine's initial states and change state only along its declared moves. It replaces
the hand-written guards of match requests (0005), needs and need responses (0008), with the same
moves, and gives listings a guard for the first time: they may be inserted in any status (the demo
data, imports and the benchmark seed them so), so only their moves are guarded.
tests/test_states.py checks every installed guard against its declaration, so a declaration
changed without a new migration (or the other way round) fails the suite. To write the next one:
`print(*states.trigger_sql(MACHINE), sep=";\n")` and paste.

Revision ID: 0010_state_guards
Revises: 0009
Create Date: 2026-11-29 20:30:00.000000
"""

from alembic import op

revision = '0010_state_guards'
down_revision = '0009'
branch_labels = None
depends_on = None

# states.trigger_sql() of `listing` (listings.status)
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
    "DROP TRIGGER IF EXISTS listings_state_moves ON listings",
    """
    CREATE TRIGGER listings_state_moves BEFORE INSERT OR UPDATE OF status ON listings
        FOR EACH ROW EXECUTE FUNCTION listings_state_moves()
    """,
)

# states.trigger_sql() of `match_request` (match_requests.state)
MATCH_REQUESTS = (
    """
    CREATE OR REPLACE FUNCTION match_requests_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NOT NEW.state = ANY (ARRAY['submitted']) THEN
                RAISE EXCEPTION 'match_requests: a row starts as submitted, not %', NEW.state
                    USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.state IS DISTINCT FROM OLD.state
              AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY['accepted>negotiating', 'accepted>withdrawn', 'info_requested>submitted', 'info_requested>withdrawn', 'negotiating>agreed', 'negotiating>closed_no_deal', 'negotiating>withdrawn', 'submitted>accepted', 'submitted>declined', 'submitted>info_requested', 'submitted>under_review', 'submitted>withdrawn', 'under_review>accepted', 'under_review>declined', 'under_review>info_requested', 'under_review>withdrawn']) THEN
            RAISE EXCEPTION 'match_requests: cannot move from % to %', OLD.state, NEW.state
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS match_requests_state_moves ON match_requests",
    """
    CREATE TRIGGER match_requests_state_moves BEFORE INSERT OR UPDATE OF state ON match_requests
        FOR EACH ROW EXECUTE FUNCTION match_requests_state_moves()
    """,
)

# states.trigger_sql() of `need` (needs.state)
NEEDS = (
    """
    CREATE OR REPLACE FUNCTION needs_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NOT NEW.state = ANY (ARRAY['draft']) THEN
                RAISE EXCEPTION 'needs: a row starts as draft, not %', NEW.state
                    USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.state IS DISTINCT FROM OLD.state
              AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY['closed>awarded', 'draft>open', 'open>awarded', 'open>closed']) THEN
            RAISE EXCEPTION 'needs: cannot move from % to %', OLD.state, NEW.state
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS needs_state_moves ON needs",
    """
    CREATE TRIGGER needs_state_moves BEFORE INSERT OR UPDATE OF state ON needs
        FOR EACH ROW EXECUTE FUNCTION needs_state_moves()
    """,
)

# states.trigger_sql() of `need_response` (need_responses.state)
NEED_RESPONSES = (
    """
    CREATE OR REPLACE FUNCTION need_responses_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NOT NEW.state = ANY (ARRAY['submitted']) THEN
                RAISE EXCEPTION 'need_responses: a row starts as submitted, not %', NEW.state
                    USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.state IS DISTINCT FROM OLD.state
              AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY['shortlisted>not_selected', 'shortlisted>selected', 'shortlisted>withdrawn', 'submitted>not_selected', 'submitted>selected', 'submitted>shortlisted', 'submitted>withdrawn']) THEN
            RAISE EXCEPTION 'need_responses: cannot move from % to %', OLD.state, NEW.state
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS need_responses_state_moves ON need_responses",
    """
    CREATE TRIGGER need_responses_state_moves BEFORE INSERT OR UPDATE OF state ON need_responses
        FOR EACH ROW EXECUTE FUNCTION need_responses_state_moves()
    """,
)

# What 0005 and 0008 installed, for going down.
OLD_MATCH_REQUESTS = (
    """
    CREATE FUNCTION match_request_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.state <> 'submitted' THEN
                RAISE EXCEPTION 'a match request starts as submitted, not %', NEW.state
                    USING ERRCODE = 'check_violation';
            END IF;
        ELSIF NEW.state IS DISTINCT FROM OLD.state
              AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY['submitted>under_review', 'submitted>info_requested', 'under_review>info_requested', 'info_requested>submitted', 'submitted>accepted', 'under_review>accepted', 'submitted>declined', 'under_review>declined', 'accepted>negotiating', 'negotiating>agreed', 'negotiating>closed_no_deal', 'submitted>withdrawn', 'under_review>withdrawn', 'info_requested>withdrawn', 'accepted>withdrawn', 'negotiating>withdrawn']) THEN
            RAISE EXCEPTION 'a match request cannot move from % to %', OLD.state, NEW.state
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER match_request_state_moves BEFORE INSERT OR UPDATE OF state ON match_requests"
    " FOR EACH ROW EXECUTE FUNCTION match_request_state_moves()",
)
OLD_MOVES = {
    "needs": ("draft", ('draft>open', 'open>closed', 'open>awarded', 'closed>awarded')),
    "need_responses": (
        "submitted",
        ('submitted>shortlisted', 'submitted>selected', 'shortlisted>selected', 'submitted>not_selected',
         'shortlisted>not_selected', 'submitted>withdrawn', 'shortlisted>withdrawn'),
    ),
}


def upgrade() -> None:
    op.execute("DROP TRIGGER match_request_state_moves ON match_requests")
    op.execute("DROP FUNCTION match_request_state_moves()")
    for statements in (LISTINGS, MATCH_REQUESTS, NEEDS, NEED_RESPONSES):
        for statement in statements:
            op.execute(statement)


def downgrade() -> None:
    for table in ("listings", "match_requests"):
        op.execute(f"DROP TRIGGER {table}_state_moves ON {table}")
        op.execute(f"DROP FUNCTION {table}_state_moves()")
    for statement in OLD_MATCH_REQUESTS:
        op.execute(statement)
    for table, (first, moves) in OLD_MOVES.items():
        allowed = ", ".join(f"'{move}'" for move in moves)
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {table}_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.state <> '{first}' THEN
                        RAISE EXCEPTION '{table}: a row starts as {first}, not %', NEW.state
                            USING ERRCODE = 'check_violation';
                    END IF;
                ELSIF NEW.state IS DISTINCT FROM OLD.state
                      AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[{allowed}]) THEN
                    RAISE EXCEPTION '{table}: cannot move from % to %', OLD.state, NEW.state
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$
            """
        )
