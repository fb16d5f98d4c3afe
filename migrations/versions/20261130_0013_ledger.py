"""The revenue-sharing ledger (收益分配): distribution policies, the floors of the law as data,
income records, payouts and an append-only double-entry journal.

Reviewed by hand. PostgreSQL itself keeps the journal honest: a deferred constraint trigger refuses
at commit any entry whose postings do not sum to zero per asset (or that has none), and triggers
refuse every UPDATE and DELETE of entries and postings (corrections are reversing entries).
Balances are a cache of the postings that payouts lock; a CHECK keeps paying accounts at or above
zero. The floors are seeded from the issue's sources (rows below); downgrade drops everything.

Revision ID: 0013_ledger
Revises: 0012_sessions
Create Date: 2026-11-30 00:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_ledger"
down_revision = "0012_sessions"
branch_labels = None
depends_on = None

INCOME_KINDS = "income_kind IN ('licence', 'equity', 'own_implementation', 'clinical_service')"
ACCOUNT_KINDS = (
    "kind IN ('income_received', 'deductible_costs', 'institution_retained', 'tto', 'iit_fund', "
    "'inventor_payable', 'cash_paid_out')"
)

LAW = "《中华人民共和国促进科技成果转化法》第四十五条"
SHANGHAI = "《上海市促进科技成果转化条例》(2017) 第三十四条"
BEIJING = "《北京市促进科技成果转化条例》(2019) 第十二条"
ZHEJIANG = "《浙江省促进科技成果转化条例》(2021) 第三十七条"
HANGZHOU = "杭卫发〔2024〕112号"
BEIJING_TASKS = "北京市临床研究任务清单"
# (code, jurisdiction, income kind, share, minimum in basis points, source)
FLOORS = [
    ("national-licence-inventors", "national", "licence", "inventors", 5000, LAW),
    ("national-equity-inventors", "national", "equity", "inventors", 5000, LAW),
    ("national-own-inventors", "national", "own_implementation", "inventors", 500, LAW),
    ("shanghai-licence-inventors", "shanghai", "licence", "inventors", 7000, SHANGHAI),
    ("shanghai-equity-inventors", "shanghai", "equity", "inventors", 7000, SHANGHAI),
    ("beijing-licence-inventors", "beijing", "licence", "inventors", 7000, BEIJING),
    ("beijing-equity-inventors", "beijing", "equity", "inventors", 7000, BEIJING),
    ("zhejiang-licence-inventors", "zhejiang", "licence", "inventors", 7000, ZHEJIANG),
    ("zhejiang-equity-inventors", "zhejiang", "equity", "inventors", 7000, ZHEJIANG),
    ("hangzhou-clinical-iit", "hangzhou", "clinical_service", "iit_fund", 1000, HANGZHOU),
    ("hangzhou-licence-iit", "hangzhou", "licence", "iit_fund", 1000, HANGZHOU),
    ("beijing-clinical-iit", "beijing", "clinical_service", "iit_fund", 2000, BEIJING_TASKS),
    ("beijing-licence-iit", "beijing", "licence", "iit_fund", 2000, BEIJING_TASKS),
]

JOURNAL_SQL = [
    # Every entry's postings sum to zero per asset, and it has some: checked at commit.
    """
    CREATE FUNCTION ledger_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        checked uuid;
        off record;
    BEGIN
        IF TG_TABLE_NAME = 'ledger_entries' THEN
            checked := NEW.id;
        ELSE
            checked := NEW.entry_id;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM ledger_postings WHERE entry_id = checked) THEN
            RAISE EXCEPTION 'ledger entry % has no postings', checked USING ERRCODE = 'check_violation';
        END IF;
        SELECT asset, sum(amount) AS total INTO off FROM ledger_postings
            WHERE entry_id = checked GROUP BY asset HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger entry % does not balance in %: off by %', checked, off.asset, off.total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balances()
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balances()
    """,
    # The journal is append-only.
    """
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%: journal rows are never changed or deleted; post a reversing entry', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
    """,
    """
    CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()
    """,
]


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["created_by_user_id"], ["users.id"], name=op.f(f"fk_{table}_created_by_user_id_users"), ondelete="SET NULL"
    )


def upgrade() -> None:
    floors = op.create_table(
        "distribution_floors",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("jurisdiction", sa.String(length=20), nullable=False),
        sa.Column("income_kind", sa.String(length=30), nullable=False),
        sa.Column("share", sa.String(length=20), nullable=False),
        sa.Column("min_bp", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "jurisdiction IN ('national', 'shanghai', 'beijing', 'zhejiang', 'hangzhou')",
            name=op.f("ck_distribution_floors_jurisdiction"),
        ),
        sa.CheckConstraint(INCOME_KINDS, name=op.f("ck_distribution_floors_income_kind")),
        sa.CheckConstraint("share IN ('inventors', 'tto', 'iit_fund', 'institution')", name=op.f("ck_distribution_floors_share")),
        sa.CheckConstraint("min_bp BETWEEN 0 AND 10000", name=op.f("ck_distribution_floors_min_bp_range")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_distribution_floors")),
    )
    op.bulk_insert(
        floors,
        [dict(zip(("code", "jurisdiction", "income_kind", "share", "min_bp", "source"), row, strict=True)) for row in FLOORS],
    )
    op.create_table(
        "distribution_floor_exceptions",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("floor_code", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["floor_code"],
            ["distribution_floors.code"],
            name=op.f("fk_distribution_floor_exceptions_floor_code_distribution_floors"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_distribution_floor_exceptions_institution_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["users.id"],
            name=op.f("fk_distribution_floor_exceptions_recorded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_floor_exceptions")),
        sa.UniqueConstraint("institution_id", "floor_code", name="uq_distribution_floor_exceptions_floor"),
    )
    op.create_table(
        "distribution_policies",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("deductible_costs", postgresql.ARRAY(sa.String(length=30)), nullable=False),
        sa.Column("remainder_share", sa.String(length=20), nullable=False),
        sa.Column("patent_cost_recovery", sa.String(length=20), nullable=False),
        sa.Column("patent_cost_recovery_bp", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "remainder_share IN ('inventors', 'tto', 'iit_fund', 'institution')",
            name=op.f("ck_distribution_policies_remainder_share"),
        ),
        sa.CheckConstraint(
            "patent_cost_recovery IN ('all_first', 'percentage')", name=op.f("ck_distribution_policies_patent_cost_recovery")
        ),
        sa.CheckConstraint(
            "(patent_cost_recovery = 'percentage') = (patent_cost_recovery_bp IS NOT NULL)"
            " AND (patent_cost_recovery_bp IS NULL OR patent_cost_recovery_bp BETWEEN 1 AND 10000)",
            name=op.f("ck_distribution_policies_recovery_bp"),
        ),
        _user_fk("distribution_policies"),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_distribution_policies_institution_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_policies")),
        sa.UniqueConstraint("institution_id", "version", name="uq_distribution_policies_version"),
    )
    op.create_index(
        "ix_distribution_policies_in_force", "distribution_policies", ["institution_id", "effective_from"], unique=False
    )
    op.create_table(
        "distribution_policy_shares",
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("income_kind", sa.String(length=30), nullable=False),
        sa.Column("inventors_bp", sa.Integer(), nullable=False),
        sa.Column("tto_bp", sa.Integer(), nullable=False),
        sa.Column("iit_fund_bp", sa.Integer(), nullable=False),
        sa.Column("institution_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(INCOME_KINDS, name=op.f("ck_distribution_policy_shares_income_kind")),
        sa.CheckConstraint(
            "inventors_bp >= 0 AND tto_bp >= 0 AND iit_fund_bp >= 0 AND institution_bp >= 0",
            name=op.f("ck_distribution_policy_shares_not_negative"),
        ),
        sa.CheckConstraint(
            "inventors_bp + tto_bp + iit_fund_bp + institution_bp = 10000", name=op.f("ck_distribution_policy_shares_sum_10000")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["distribution_policies.id"],
            name=op.f("fk_distribution_policy_shares_policy_id_distribution_policies"),
        ),
        sa.PrimaryKeyConstraint("policy_id", "income_kind", name=op.f("pk_distribution_policy_shares")),
    )
    op.create_table(
        "distribution_result_overrides",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("researchers_bp", sa.Integer(), nullable=False),
        sa.Column("agreement_ref", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "researchers_bp BETWEEN 0 AND 10000", name=op.f("ck_distribution_result_overrides_researchers_bp_range")
        ),
        _user_fk("distribution_result_overrides"),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_distribution_result_overrides_institution_id_organizations")
        ),
        sa.ForeignKeyConstraint(["result_id"], ["listings.id"], name=op.f("fk_distribution_result_overrides_result_id_listings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution_result_overrides")),
    )
    op.create_index(
        op.f("ix_distribution_result_overrides_result_id"), "distribution_result_overrides", ["result_id"], unique=False
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("holder", sa.String(length=120), server_default="", nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("holder_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(ACCOUNT_KINDS, name=op.f("ck_ledger_accounts_kind")),
        sa.CheckConstraint("(kind = 'inventor_payable') = (holder <> '')", name=op.f("ck_ledger_accounts_holder_of_payable")),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_ledger_accounts_institution_id_organizations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ledger_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("institution_id", "kind", "holder", name="uq_ledger_accounts_holder"),
    )
    op.create_index(op.f("ix_ledger_accounts_user_id"), "ledger_accounts", ["user_id"], unique=False)
    op.create_table(
        "ledger_balances",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("kind = 'income_received' OR balance >= 0", name=op.f("ck_ledger_balances_not_negative")),
        sa.CheckConstraint(ACCOUNT_KINDS, name=op.f("ck_ledger_balances_kind")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_balances_account_id_ledger_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "asset", name=op.f("pk_ledger_balances")),
    )
    op.create_table(
        "ledger_incomes",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("source_kind", sa.String(length=30), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("asset", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("costs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("costs_deducted", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('licence', 'equity', 'own_implementation', 'clinical_service')", name=op.f("ck_ledger_incomes_kind")
        ),
        sa.CheckConstraint("source_kind IN ('licensing_payment', 'manual_contract')", name=op.f("ck_ledger_incomes_source_kind")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_incomes_amount_positive")),
        sa.CheckConstraint(
            "costs_deducted >= 0 AND costs_deducted <= amount", name=op.f("ck_ledger_incomes_costs_deducted_range")
        ),
        _user_fk("ledger_incomes"),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_ledger_incomes_institution_id_organizations")
        ),
        sa.ForeignKeyConstraint(["result_id"], ["listings.id"], name=op.f("fk_ledger_incomes_result_id_listings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_incomes")),
        sa.UniqueConstraint("institution_id", "idempotency_key", name="uq_ledger_incomes_idempotency_key"),
    )
    op.create_index(op.f("ix_ledger_incomes_result_id"), "ledger_incomes", ["result_id"], unique=False)
    op.create_table(
        "ledger_payouts",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_payouts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_payouts_account_id_ledger_accounts")
        ),
        _user_fk("ledger_payouts"),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_ledger_payouts_institution_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payouts")),
    )
    op.create_index(op.f("ix_ledger_payouts_account_id"), "ledger_payouts", ["account_id"], unique=False)
    op.create_table(
        "ledger_entries",
        sa.Column("sequence", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("income_id", sa.Uuid(), nullable=True),
        sa.Column("payout_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_entry_id", sa.Uuid(), nullable=True),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("result_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('income', 'payout', 'reversal')", name=op.f("ck_ledger_entries_kind")),
        sa.CheckConstraint(
            "(kind = 'income' AND income_id IS NOT NULL) OR (kind = 'payout' AND payout_id IS NOT NULL)"
            " OR (kind = 'reversal' AND reverses_entry_id IS NOT NULL AND reason <> '')",
            name=op.f("ck_ledger_entries_source"),
        ),
        _user_fk("ledger_entries"),
        sa.ForeignKeyConstraint(["income_id"], ["ledger_incomes.id"], name=op.f("fk_ledger_entries_income_id_ledger_incomes")),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organizations.id"], name=op.f("fk_ledger_entries_institution_id_organizations")
        ),
        sa.ForeignKeyConstraint(["payout_id"], ["ledger_payouts.id"], name=op.f("fk_ledger_entries_payout_id_ledger_payouts")),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["distribution_policies.id"], name=op.f("fk_ledger_entries_policy_id_distribution_policies")
        ),
        sa.ForeignKeyConstraint(["result_id"], ["listings.id"], name=op.f("fk_ledger_entries_result_id_listings")),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_entries_reverses_entry_id_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("income_id", name=op.f("uq_ledger_entries_income_id")),
        sa.UniqueConstraint("payout_id", name=op.f("uq_ledger_entries_payout_id")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_ledger_entries_reverses_entry_id")),
        sa.UniqueConstraint("sequence", name=op.f("uq_ledger_entries_sequence")),
    )
    op.create_index("ix_ledger_entries_institution", "ledger_entries", ["institution_id", "sequence"], unique=False)
    op.create_index(op.f("ix_ledger_entries_result_id"), "ledger_entries", ["result_id"], unique=False)
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_postings_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_ledger_postings_account_id_ledger_accounts")
        ),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_postings_entry_id_ledger_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(op.f("ix_ledger_postings_account_id"), "ledger_postings", ["account_id"], unique=False)
    op.create_index(op.f("ix_ledger_postings_entry_id"), "ledger_postings", ["entry_id"], unique=False)
    for statement in JOURNAL_SQL:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "ledger_postings",
        "ledger_entries",
        "ledger_payouts",
        "ledger_incomes",
        "ledger_balances",
        "ledger_accounts",
        "distribution_result_overrides",
        "distribution_policy_shares",
        "distribution_policies",
        "distribution_floor_exceptions",
        "distribution_floors",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION ledger_append_only()")
    op.execute("DROP FUNCTION ledger_entry_balances()")
