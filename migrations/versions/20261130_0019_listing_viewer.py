"""Listing pages that know the viewer (issue 16): a person's shortlist of listings with notes.

Revision ID: 0019_listing_viewer
Revises: 0018_front_door
Create Date: 2026-11-30 11:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0019_listing_viewer"
down_revision = "0018_front_door"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shortlist_entries",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_shortlist_entries_listing_id_listings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_shortlist_entries_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist_entries")),
        sa.UniqueConstraint("user_id", "listing_id", name=op.f("uq_shortlist_entries_user_id")),
    )
    op.create_index(op.f("ix_shortlist_entries_listing_id"), "shortlist_entries", ["listing_id"], unique=False)
    op.create_index(op.f("ix_shortlist_entries_user_id"), "shortlist_entries", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shortlist_entries_user_id"), table_name="shortlist_entries")
    op.drop_index(op.f("ix_shortlist_entries_listing_id"), table_name="shortlist_entries")
    op.drop_table("shortlist_entries")
