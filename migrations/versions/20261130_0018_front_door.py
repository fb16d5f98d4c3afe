"""The front door: forgotten-password links and organizations' requests for access.

Written by hand. The trigger at the end is the state guard of access requests
(marketplace.states.trigger_sql of marketplace/accounts/access_requests.py; tests/app/test_states.py
checks they agree).

Revision ID: 0018_front_door
Revises: 0017_search_embeddings
Create Date: 2026-11-30 11:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = "0018_front_door"
down_revision = "0017_search_embeddings"
branch_labels = None
depends_on = None

ACCESS_REQUEST_GUARD = (
    """CREATE OR REPLACE FUNCTION access_requests_state_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT NEW.status = ANY (ARRAY['pending']) THEN
            RAISE EXCEPTION 'access_requests: a row starts as pending, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.status IS DISTINCT FROM OLD.status
          AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY['pending>approved', 'pending>declined']) THEN
        RAISE EXCEPTION 'access_requests: cannot move from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$""",
    "DROP TRIGGER IF EXISTS access_requests_state_moves ON access_requests",
    """CREATE TRIGGER access_requests_state_moves BEFORE INSERT OR UPDATE OF status ON access_requests
    FOR EACH ROW EXECUTE FUNCTION access_requests_state_moves()""",
)


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False)
    op.create_table(
        "access_requests",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("locale", sa.String(length=10), server_default="zh_CN", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=1000), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('institution', 'company')", name=op.f("ck_access_requests_kind")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'declined')", name=op.f("ck_access_requests_status")),
        sa.CheckConstraint("kind <> 'company' OR credit_code IS NOT NULL", name=op.f("ck_access_requests_company_credit_code")),
        sa.CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name=op.f("ck_access_requests_credit_code_format")),
        sa.CheckConstraint(
            "status <> 'declined' OR length(decline_reason) > 0", name=op.f("ck_access_requests_declined_with_reason")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_access_requests_decided_by_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_access_requests_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index(
        "uq_access_requests_pending_email",
        "access_requests",
        [sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "uq_access_requests_pending_credit_code",
        "access_requests",
        ["credit_code"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    for statement in ACCESS_REQUEST_GUARD:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("access_requests")
    op.execute("DROP FUNCTION IF EXISTS access_requests_state_moves()")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
