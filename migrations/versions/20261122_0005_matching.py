"""Matching: match requests, the versioned NDA, confidential-access grants, response time.

Reviewed by hand: the NDA's version 1 is seeded here; a trigger lets a match request start only
as submitted and change state only along LEGAL_MOVES (the same moves as
marketplace.matching.services.TRANSITIONS, checked by tests/test_matching.py); institutions get a
response time of 10 working days.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 22:40:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# (from, to): every state change a match request may make.
LEGAL_MOVES = (
    ("submitted", "under_review"),
    ("submitted", "info_requested"),
    ("under_review", "info_requested"),
    ("info_requested", "submitted"),
    ("submitted", "accepted"),
    ("under_review", "accepted"),
    ("submitted", "declined"),
    ("under_review", "declined"),
    ("accepted", "negotiating"),
    ("negotiating", "agreed"),
    ("negotiating", "closed_no_deal"),
    ("submitted", "withdrawn"),
    ("under_review", "withdrawn"),
    ("info_requested", "withdrawn"),
    ("accepted", "withdrawn"),
    ("negotiating", "withdrawn"),
)

NDA_V1_ZH = """平台保密协议（第1版）

申请对接的企业（“接收方”）代表本企业作出如下承诺：

一、保密信息：指成果或资源提供方（“披露方”）通过本平台向接收方提供的、未公开的技术资料、数据、工艺参数、报价、合同条款及其他标明或理应视为保密的信息，包括条目中的“保密信息”部分及对接沟通中提供的文件。

二、使用限制：接收方仅为评估与披露方开展许可、合作开发、临床试验、资源使用或服务合作之目的使用保密信息，不得用于其他目的，不得据此申请专利或进行反向工程。

三、知悉范围：接收方仅向因上述目的确需知悉的员工、顾问披露保密信息，并确保其承担不低于本协议的保密义务。

四、例外：已公开、接收方在披露前已合法知悉、从有权第三方合法获得、或依法律法规及监管要求必须披露的信息不属于保密信息；依法披露前应及时通知披露方。

五、期限与返还：保密义务自接受本协议之日起五年内有效，对技术秘密持续有效至其公开；对接结束或应披露方要求时，接收方应返还或销毁保密信息。

六、违约责任：接收方违反本协议的，应赔偿披露方因此遭受的损失。本协议适用中华人民共和国法律；争议提交披露方所在地有管辖权的人民法院解决。

接受本协议即表示申请人有权代表本企业作出上述承诺。平台发布新版本后，须接受新版本方可继续查看保密信息。"""

NDA_V1_EN = """Platform confidentiality agreement (version 1)

The company requesting a match (the "recipient") undertakes on its own behalf:

1. Confidential information means the unpublished technical material, data, process parameters, prices, contract terms and other information marked as or reasonably understood to be confidential that the provider of a result or resource (the "discloser") gives the recipient through this platform, including a listing's confidential details and documents shared in the match conversation.

2. Use: the recipient uses confidential information only to evaluate a licence, co-development, clinical trial, use of a resource or service with the discloser, for no other purpose; it does not file patents on it or reverse-engineer it.

3. Circle of knowledge: the recipient discloses confidential information only to employees and advisers who need it for that purpose and who are bound by duties no weaker than these.

4. Exceptions: information that is public, that the recipient lawfully knew before, that it lawfully receives from a third party entitled to give it, or that law or a regulator requires it to disclose is not confidential; before a required disclosure the recipient informs the discloser.

5. Term and return: these duties last five years from acceptance, and for trade secrets until they become public; when the match ends or the discloser asks, the recipient returns or destroys the confidential information.

6. Liability: a recipient in breach compensates the discloser's loss. The law of the People's Republic of China applies; disputes go to the competent people's court where the discloser is located.

By accepting, the person requesting confirms they may bind the company. When the platform publishes a new version, it must be accepted before confidential details can be seen again."""


def upgrade() -> None:
    op.add_column('organizations', sa.Column('response_working_days', sa.SmallInteger(), server_default='10', nullable=False))
    op.create_check_constraint(
        op.f('ck_organizations_response_days_range'), 'organizations', 'response_working_days BETWEEN 1 AND 60'
    )
    op.create_table('nda_versions',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('text_zh', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_nda_versions_version_positive')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_nda_versions'))
    )
    nda = sa.table(
        "nda_versions", sa.column("version", sa.Integer()), sa.column("text_zh", sa.Text()), sa.column("text_en", sa.Text())
    )
    op.bulk_insert(nda, [{"version": 1, "text_zh": NDA_V1_ZH, "text_en": NDA_V1_EN}])
    op.create_table('confidential_grants',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('company_kind', sa.String(length=16), server_default='company', nullable=False),
    sa.Column('nda_version', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("company_kind = 'company'", name=op.f('ck_confidential_grants_granted_to_company')),
    sa.ForeignKeyConstraint(['company_id', 'company_kind'], ['organizations.id', 'organizations.kind'], name='fk_confidential_grants_company', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_confidential_grants_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nda_version'], ['nda_versions.version'], name=op.f('fk_confidential_grants_nda_version_nda_versions')),
    sa.PrimaryKeyConstraint('listing_id', 'company_id', name=op.f('pk_confidential_grants'))
    )
    op.create_index('ix_confidential_grants_company', 'confidential_grants', ['company_id'], unique=False)
    op.create_table('match_requests',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('institution_kind', sa.String(length=16), server_default='institution', nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('company_kind', sa.String(length=16), server_default='company', nullable=False),
    sa.Column('requested_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=20), server_default='submitted', nullable=False),
    sa.Column('engagement_type', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('timeline', sa.String(length=500), nullable=False),
    sa.Column('budget_min_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_max_fen', sa.BigInteger(), nullable=True),
    sa.Column('budget_currency', sa.String(length=3), server_default='CNY', nullable=False),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.Column('nda_version', sa.Integer(), nullable=False),
    sa.Column('nda_accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_due_on', sa.Date(), nullable=True),
    sa.Column('remind_on', sa.Date(), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('company_agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('institution_agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(state = 'submitted') = (response_due_on IS NOT NULL AND remind_on IS NOT NULL)", name=op.f('ck_match_requests_due_while_submitted')),
    sa.CheckConstraint("budget_currency = 'CNY'", name=op.f('ck_match_requests_budget_currency')),
    sa.CheckConstraint("company_kind = 'company'", name=op.f('ck_match_requests_company_kind')),
    sa.CheckConstraint("engagement_type IN ('licence', 'co_development', 'clinical_trial', 'resource_use', 'service')", name=op.f('ck_match_requests_engagement_type')),
    sa.CheckConstraint("institution_kind = 'institution'", name=op.f('ck_match_requests_institution_kind')),
    sa.CheckConstraint("state <> 'agreed' OR (company_agreed_at IS NOT NULL AND institution_agreed_at IS NOT NULL)", name=op.f('ck_match_requests_agreed_by_both')),
    sa.CheckConstraint("state IN ('submitted', 'under_review', 'info_requested', 'accepted', 'declined', 'negotiating', 'agreed', 'closed_no_deal', 'withdrawn')", name=op.f('ck_match_requests_state')),
    sa.CheckConstraint('budget_min_fen <= budget_max_fen', name=op.f('ck_match_requests_budget_min_le_max')),
    sa.CheckConstraint('budget_min_fen >= 0 AND budget_max_fen >= 0', name=op.f('ck_match_requests_budget_not_negative')),
    sa.CheckConstraint('length(btrim(purpose)) > 0', name=op.f('ck_match_requests_purpose_given')),
    sa.ForeignKeyConstraint(['company_id', 'company_kind'], ['organizations.id', 'organizations.kind'], name='fk_match_requests_company'),
    sa.ForeignKeyConstraint(['institution_id', 'institution_kind'], ['organizations.id', 'organizations.kind'], name='fk_match_requests_institution'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_match_requests_listing_id_listings'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['nda_version'], ['nda_versions.version'], name=op.f('fk_match_requests_nda_version_nda_versions')),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_match_requests_requested_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_requests'))
    )
    op.create_index('ix_match_requests_company_state', 'match_requests', ['company_id', 'state'], unique=False)
    op.create_index('ix_match_requests_due', 'match_requests', ['response_due_on'], unique=False, postgresql_where=sa.text("state = 'submitted'"))
    op.create_index('ix_match_requests_institution_state', 'match_requests', ['institution_id', 'state'], unique=False)
    op.create_index(op.f('ix_match_requests_listing_id'), 'match_requests', ['listing_id'], unique=False)
    op.create_index('uq_match_requests_open', 'match_requests', ['listing_id', 'company_id'], unique=True, postgresql_where=sa.text("state IN ('accepted', 'info_requested', 'negotiating', 'submitted', 'under_review')"))
    moves = ", ".join(f"'{a}>{b}'" for a, b in LEGAL_MOVES)
    op.execute(
        f"""
        CREATE FUNCTION match_request_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.state <> 'submitted' THEN
                    RAISE EXCEPTION 'a match request starts as submitted, not %', NEW.state
                        USING ERRCODE = 'check_violation';
                END IF;
            ELSIF NEW.state IS DISTINCT FROM OLD.state
                  AND NOT (OLD.state || '>' || NEW.state) = ANY (ARRAY[{moves}]) THEN
                RAISE EXCEPTION 'a match request cannot move from % to %', OLD.state, NEW.state
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER match_request_state_moves BEFORE INSERT OR UPDATE OF state ON match_requests
            FOR EACH ROW EXECUTE FUNCTION match_request_state_moves()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER match_request_state_moves ON match_requests")
    op.execute("DROP FUNCTION match_request_state_moves()")
    op.drop_index('uq_match_requests_open', table_name='match_requests', postgresql_where=sa.text("state IN ('accepted', 'info_requested', 'negotiating', 'submitted', 'under_review')"))
    op.drop_index(op.f('ix_match_requests_listing_id'), table_name='match_requests')
    op.drop_index('ix_match_requests_institution_state', table_name='match_requests')
    op.drop_index('ix_match_requests_due', table_name='match_requests', postgresql_where=sa.text("state = 'submitted'"))
    op.drop_index('ix_match_requests_company_state', table_name='match_requests')
    op.drop_table('match_requests')
    op.drop_index('ix_confidential_grants_company', table_name='confidential_grants')
    op.drop_table('confidential_grants')
    op.drop_table('nda_versions')
    op.drop_constraint(op.f('ck_organizations_response_days_range'), 'organizations', type_='check')
    op.drop_column('organizations', 'response_working_days')
