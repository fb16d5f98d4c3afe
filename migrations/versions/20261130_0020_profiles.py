"""Profiles: an organization's description (zh, en), its named contact and its logo (the bytes in
organization_logos, the hash on the organization so pages can link it without reading it).

Revision ID: 0020_profiles
Revises: 0019_listing_viewer
Create Date: 2026-11-30 11:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0020_profiles"
down_revision = "0019_listing_viewer"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (
    ("description_zh", sa.Text()),
    ("description_en", sa.Text()),
    ("contact_name", sa.String(length=100)),
    ("contact_title", sa.String(length=100)),
    ("contact_email", sa.String(length=254)),
    ("contact_phone", sa.String(length=40)),
)


def upgrade() -> None:
    for name, type_ in TEXT_COLUMNS:
        op.add_column("organizations", sa.Column(name, type_, server_default="", nullable=False))
    op.add_column("organizations", sa.Column("logo_sha256", sa.String(length=64), nullable=True))
    op.create_table(
        "organization_logos",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_logos_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_logos")),
    )


def downgrade() -> None:
    op.drop_table("organization_logos")
    op.drop_column("organizations", "logo_sha256")
    for name, _ in reversed(TEXT_COLUMNS):
        op.drop_column("organizations", name)
