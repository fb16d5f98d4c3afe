"""Needs and challenges (企业需求, 揭榜挂帅), their invited institutions and institutions' responses;
the search outbox learns the entity type `need`.

Reviewed by hand: triggers let a need start only as a draft and a response only as submitted, and
change state only along NEED_MOVES / RESPONSE_MOVES (the same moves as
marketplace.matching.services.NEED_TRANSITIONS / RESPONSE_TRANSITIONS, checked by tests/test_needs.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 23:40:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NEED_MOVES = (("draft", "open"), ("open", "closed"), ("open", "awarded"), ("closed", "awarded"))
RESPONSE_MOVES = (
    ("submitted", "shortlisted"),
    ("submitted", "selected"),
    ("shortlisted", "selected"),
    ("submitted", "not_selected"),
    ("shortlisted", "not_selected"),
    ("submitted", "withdrawn"),
    ("shortlisted", "withdrawn"),
)
WANTED = (
    "result", "resource", "patent", "software", "ivd_reagent", "device", "drug_candidate", "biomaterial", "know_how",
    "clinical_data", "research_ward", "trial_site", "pi_team", "biobank", "disease_cohort", "trial_ready_cohort",
    "equipment", "ethics_service", "data_service",
)


def _state_trigger(table: str, first: str, moves) -> None:
    allowed = ", ".join(f"'{a}>{b}'" for a, b in moves)
    op.execute(
        f"""
        CREATE FUNCTION {table}_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.execute(
        f"""
        CREATE TRIGGER {table}_state_moves BEFORE INSERT OR UPDATE OF state ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_state_moves()
        """
    )


def upgrade() -> None:
    op.drop_constraint(op.f('ck_outbox_entity_type'), 'outbox', type_='check')
    op.create_check_constraint(op.f('ck_outbox_entity_type'), 'outbox', "entity_type IN ('listing', 'need')")
    wanted = ", ".join(f"'{w}'" for w in WANTED)
    op.create_table('needs',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('organization_kind', sa.String(length=16), nullable=False),
    sa.Column('on_behalf_of_id', sa.Uuid(), nullable=True),
    sa.Column('on_behalf_of_kind', sa.String(length=16), server_default='company', nullable=False),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('areas', sa.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('wanted', sa.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('budget_min_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_max_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_currency', sa.String(length=3), server_default='CNY', nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('visibility', sa.String(length=16), server_default='public', nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('need', 'challenge')", name=op.f('ck_needs_kind')),
    sa.CheckConstraint("state IN ('draft', 'open', 'closed', 'awarded')", name=op.f('ck_needs_state')),
    sa.CheckConstraint("visibility IN ('public', 'invited')", name=op.f('ck_needs_visibility')),
    sa.CheckConstraint(
        "(kind = 'need' AND organization_kind = 'company' AND on_behalf_of_id IS NULL)"
        " OR (kind = 'challenge' AND organization_kind = 'platform')",
        name=op.f('ck_needs_poster_fits_kind'),
    ),
    sa.CheckConstraint("on_behalf_of_kind = 'company'", name=op.f('ck_needs_on_behalf_of_company')),
    sa.CheckConstraint("length(btrim(title)) > 0 AND length(btrim(problem)) > 0", name=op.f('ck_needs_text_given')),
    sa.CheckConstraint('cardinality(areas) >= 1', name=op.f('ck_needs_areas_given')),
    sa.CheckConstraint(f"cardinality(wanted) >= 1 AND wanted <@ ARRAY[{wanted}]::varchar[]", name=op.f('ck_needs_wanted_values')),
    sa.CheckConstraint("budget_currency = 'CNY'", name=op.f('ck_needs_budget_currency')),
    sa.CheckConstraint('budget_min_fen >= 0 AND budget_max_fen >= 0', name=op.f('ck_needs_budget_not_negative')),
    sa.CheckConstraint('budget_min_fen <= budget_max_fen', name=op.f('ck_needs_budget_min_le_max')),
    sa.CheckConstraint("state = 'draft' OR opened_at IS NOT NULL", name=op.f('ck_needs_opened_when_not_draft')),
    sa.ForeignKeyConstraint(['organization_id', 'organization_kind'], ['organizations.id', 'organizations.kind'], name='fk_needs_poster'),
    sa.ForeignKeyConstraint(['on_behalf_of_id', 'on_behalf_of_kind'], ['organizations.id', 'organizations.kind'], name='fk_needs_on_behalf_of'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_needs_created_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs'))
    )
    op.create_index('ix_needs_organization_state', 'needs', ['organization_id', 'state'], unique=False)
    op.create_index('ix_needs_open_deadline', 'needs', ['deadline'], unique=False, postgresql_where=sa.text("state = 'open'"))
    op.create_table('need_invitations',
    sa.Column('need_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('institution_kind', sa.String(length=16), server_default='institution', nullable=False),
    sa.CheckConstraint("institution_kind = 'institution'", name=op.f('ck_need_invitations_institution_kind')),
    sa.ForeignKeyConstraint(['institution_id', 'institution_kind'], ['organizations.id', 'organizations.kind'], name='fk_need_invitations_institution', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_invitations_need_id_needs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('need_id', 'institution_id', name=op.f('pk_need_invitations'))
    )
    op.create_index('ix_need_invitations_institution', 'need_invitations', ['institution_id'], unique=False)
    op.create_table('need_responses',
    sa.Column('need_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('institution_kind', sa.String(length=16), server_default='institution', nullable=False),
    sa.Column('submitted_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='submitted', nullable=False),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('listing_ids', sa.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('budget_min_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_max_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_currency', sa.String(length=3), server_default='CNY', nullable=False),
    sa.Column('timeline', sa.String(length=500), server_default='', nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('match_request_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("institution_kind = 'institution'", name=op.f('ck_need_responses_institution_kind')),
    sa.CheckConstraint("state IN ('submitted', 'shortlisted', 'selected', 'not_selected', 'withdrawn')", name=op.f('ck_need_responses_state')),
    sa.CheckConstraint('length(btrim(proposal)) > 0', name=op.f('ck_need_responses_proposal_given')),
    sa.CheckConstraint("budget_currency = 'CNY'", name=op.f('ck_need_responses_budget_currency')),
    sa.CheckConstraint('budget_min_fen >= 0 AND budget_max_fen >= 0', name=op.f('ck_need_responses_budget_not_negative')),
    sa.CheckConstraint('budget_min_fen <= budget_max_fen', name=op.f('ck_need_responses_budget_min_le_max')),
    sa.CheckConstraint('cardinality(listing_ids) >= 1', name=op.f('ck_need_responses_listings_given')),
    sa.ForeignKeyConstraint(['institution_id', 'institution_kind'], ['organizations.id', 'organizations.kind'], name='fk_need_responses_institution'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_responses_need_id_needs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['users.id'], name=op.f('fk_need_responses_submitted_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['match_request_id'], ['match_requests.id'], name=op.f('fk_need_responses_match_request_id_match_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_responses'))
    )
    op.create_index(op.f('ix_need_responses_need_id'), 'need_responses', ['need_id'], unique=False)
    op.create_index('ix_need_responses_institution', 'need_responses', ['institution_id', 'state'], unique=False)
    op.create_index('uq_need_responses_active', 'need_responses', ['need_id', 'institution_id'], unique=True, postgresql_where=sa.text("state IN ('selected', 'shortlisted', 'submitted')"))
    op.create_index('uq_need_responses_selected', 'need_responses', ['need_id'], unique=True, postgresql_where=sa.text("state = 'selected'"))
    _state_trigger("needs", "draft", NEED_MOVES)
    _state_trigger("need_responses", "submitted", RESPONSE_MOVES)


def downgrade() -> None:
    for table in ("need_responses", "needs"):
        op.execute(f"DROP TRIGGER {table}_state_moves ON {table}")
        op.execute(f"DROP FUNCTION {table}_state_moves()")
    op.drop_table('need_responses')
    op.drop_table('need_invitations')
    op.drop_table('needs')
    op.execute("DELETE FROM outbox WHERE entity_type = 'need'")
    op.drop_constraint(op.f('ck_outbox_entity_type'), 'outbox', type_='check')
    op.create_check_constraint(op.f('ck_outbox_entity_type'), 'outbox', "entity_type IN ('listing')")
