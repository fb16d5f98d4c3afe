"""Saved searches with alerts and digests; in-app notifications and e-mail preferences.

Reviewed by hand:
- `listings.changed_at` says when what search shows of a listing last changed. Triggers keep it:
  a BEFORE trigger on listings when a public column changes (not on turning stale, not on
  confidential fields), and statement triggers on listing_areas when areas are added or removed.
  It takes the transaction's now(), the same value the search outbox row of that change gets.
  Existing rows start from updated_at, and every published listing is queued so its search
  document gains the field.
- `outbox.alerted_at`: saved-search alerts look at each change once the relay has put it in the
  index (processed) and mark it; rows processed before this migration count as looked at.
- A digest per user per 24 hours: an exclusion constraint (btree_gist) refuses overlapping quiet
  periods, so two workers cannot both send one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Columns of a listing that its search document shows (search.services.listing_document).
PUBLIC_COLUMNS = (
    "kind", "type", "status", "title_zh", "title_en", "summary_zh", "summary_en", "advantages", "keywords", "stage",
    "trl", "ownership_model", "licence_options", "engagement_modes", "pricing_model", "availability",
    "institution_id", "published_at", "confirmed_at",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    # ----- listings.changed_at ---------------------------------------------------------------
    op.add_column('listings', sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.execute("UPDATE listings SET changed_at = updated_at")
    new = ", ".join(f"NEW.{c}" for c in PUBLIC_COLUMNS)
    old = ", ".join(f"OLD.{c}" for c in PUBLIC_COLUMNS)
    op.execute(
        f"""
        CREATE FUNCTION listings_changed_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' OR ROW({new}) IS DISTINCT FROM ROW({old}) THEN
                NEW.changed_at := now();
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER listings_changed_at BEFORE INSERT OR UPDATE ON listings
            FOR EACH ROW EXECUTE FUNCTION listings_changed_at()
        """
    )
    op.execute(
        """
        CREATE FUNCTION listing_areas_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE listings SET changed_at = now() WHERE id IN (SELECT listing_id FROM changed_areas);
            RETURN NULL;
        END $$
        """
    )
    # A trigger with transition tables takes one event each.
    for name, event, table in (("inserted", "INSERT", "NEW"), ("deleted", "DELETE", "OLD")):
        op.execute(
            f"""
            CREATE TRIGGER listing_areas_{name} AFTER {event} ON listing_areas
                REFERENCING {table} TABLE AS changed_areas
                FOR EACH STATEMENT EXECUTE FUNCTION listing_areas_changed()
            """
        )
    # Saved-search alerts look at each change once it is in the index (nothing before this is news).
    op.add_column('outbox', sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET alerted_at = now() WHERE processed_at IS NOT NULL")
    op.create_index('ix_outbox_unalerted', 'outbox', ['id'], unique=False,
                    postgresql_where=sa.text('processed_at IS NOT NULL AND alerted_at IS NULL'))
    # Every published listing's document gains changed_at_ms through the relay.
    op.execute(
        "INSERT INTO outbox (entity_type, entity_id, op) "
        "SELECT 'listing', id, 'upsert' FROM listings WHERE status = 'published' ORDER BY published_at, id"
    )

    # ----- notifications -----------------------------------------------------------------------
    op.create_table('notifications',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("link IS NULL OR (link LIKE '/%' AND link NOT LIKE '//%')", name=op.f('ck_notifications_link_same_site')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_unread', 'notifications', ['user_id'], unique=False, postgresql_where=sa.text('read_at IS NULL'))
    op.create_index('ix_notifications_user_created', 'notifications', ['user_id', 'created_at'], unique=False)
    op.create_table('email_preferences',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('unsubscribe_token', sa.String(length=64), nullable=False),
    sa.Column('enabled_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_email_preferences')),
    sa.UniqueConstraint('unsubscribe_token', name=op.f('uq_email_preferences_unsubscribe_token'))
    )

    # ----- saved searches ------------------------------------------------------------------------
    op.create_table('saved_searches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('query', sa.Text(), server_default='', nullable=False),
    sa.Column('email_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('email_since', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('unsubscribe_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(btrim(name)) BETWEEN 1 AND 80', name=op.f('ck_saved_searches_name_length')),
    sa.CheckConstraint('char_length(query) <= 2000', name=op.f('ck_saved_searches_query_length')),
    sa.ForeignKeyConstraint(['user_id', 'organization_id'], ['memberships.user_id', 'memberships.organization_id'], name='fk_saved_searches_membership', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    sa.UniqueConstraint('unsubscribe_token', name=op.f('uq_saved_searches_unsubscribe_token'))
    )
    op.create_index('uq_saved_searches_user_name', 'saved_searches', ['user_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('saved_search_digests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('quiet_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('matches', sa.Integer(), nullable=False),
    postgresql.ExcludeConstraint((sa.column('user_id'), '='), (sa.text('tstzrange(sent_at, quiet_until)'), '&&'), using='gist', name='ex_saved_search_digests_one_a_day'),
    sa.CheckConstraint("quiet_until - sent_at >= interval '24 hours'", name=op.f('ck_saved_search_digests_quiet_a_day')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_search_digests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search_digests'))
    )
    op.create_table('saved_search_matches',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('saved_search_id', sa.Uuid(), nullable=False),
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('changed_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('is_new', sa.Boolean(), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('found_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('digest_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['saved_search_digests.id'], name=op.f('fk_saved_search_matches_digest_id_saved_search_digests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_saved_search_matches_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'], name=op.f('fk_saved_search_matches_saved_search_id_saved_searches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search_matches')),
    sa.UniqueConstraint('saved_search_id', 'listing_id', 'changed_at_ms', name='uq_saved_search_matches_change')
    )
    op.create_index(op.f('ix_saved_search_matches_listing_id'), 'saved_search_matches', ['listing_id'], unique=False)
    op.create_index('ix_saved_search_matches_recent', 'saved_search_matches', ['saved_search_id', 'found_at'], unique=False)
    op.create_index('ix_saved_search_matches_undigested', 'saved_search_matches', ['saved_search_id'], unique=False, postgresql_where=sa.text('digest_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_saved_search_matches_undigested', table_name='saved_search_matches', postgresql_where=sa.text('digest_id IS NULL'))
    op.drop_index('ix_saved_search_matches_recent', table_name='saved_search_matches')
    op.drop_index(op.f('ix_saved_search_matches_listing_id'), table_name='saved_search_matches')
    op.drop_table('saved_search_matches')
    op.drop_table('saved_search_digests')
    op.drop_index('uq_saved_searches_user_name', table_name='saved_searches')
    op.drop_table('saved_searches')
    op.drop_table('email_preferences')
    op.drop_index('ix_notifications_user_created', table_name='notifications')
    op.drop_index('ix_notifications_unread', table_name='notifications', postgresql_where=sa.text('read_at IS NULL'))
    op.drop_table('notifications')
    op.drop_index('ix_outbox_unalerted', table_name='outbox',
                  postgresql_where=sa.text('processed_at IS NOT NULL AND alerted_at IS NULL'))
    op.drop_column('outbox', 'alerted_at')
    op.execute("DROP TRIGGER listing_areas_deleted ON listing_areas")
    op.execute("DROP TRIGGER listing_areas_inserted ON listing_areas")
    op.execute("DROP FUNCTION listing_areas_changed()")
    op.execute("DROP TRIGGER listings_changed_at ON listings")
    op.execute("DROP FUNCTION listings_changed_at()")
    op.drop_column('listings', 'changed_at')
    # btree_gist stays: other tables may use it.
