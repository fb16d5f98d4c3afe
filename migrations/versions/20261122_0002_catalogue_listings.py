"""Catalogue: listings (results and clinical resources), inventors, IP assets, therapeutic areas.

Reviewed by hand: the therapeutic-area vocabulary is seeded here; inventor shares of a listing
must sum to 10,000 basis points, checked by a deferred constraint trigger at commit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:07:48.277745
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


AREAS = [
    ("oncology", "肿瘤", "Oncology"),
    ("cardiovascular", "心血管", "Cardiovascular"),
    ("neurology", "神经", "Neurology"),
    ("psychiatry", "精神心理", "Psychiatry"),
    ("endocrinology", "内分泌与代谢", "Endocrinology & metabolism"),
    ("respiratory", "呼吸", "Respiratory"),
    ("digestive", "消化", "Gastroenterology & hepatology"),
    ("infectious", "感染性疾病", "Infectious diseases"),
    ("immunology", "免疫与风湿", "Immunology & rheumatology"),
    ("hematology", "血液", "Hematology"),
    ("nephrology", "肾脏与泌尿", "Nephrology & urology"),
    ("ophthalmology", "眼科", "Ophthalmology"),
    ("dermatology", "皮肤", "Dermatology"),
    ("orthopedics", "骨科与运动医学", "Orthopedics & sports medicine"),
    ("obstetrics", "妇产与生殖", "Obstetrics, gynecology & reproduction"),
    ("pediatrics", "儿科", "Pediatrics"),
    ("rare_diseases", "罕见病", "Rare diseases"),
    ("geriatrics", "老年医学", "Geriatrics"),
    ("stomatology", "口腔", "Stomatology"),
    ("medical_imaging", "医学影像", "Medical imaging"),
    ("rehabilitation", "康复", "Rehabilitation"),
    ("critical_care", "重症与急救", "Critical & emergency care"),
    ("traditional_chinese_medicine", "中医药", "Traditional Chinese medicine"),
    ("anesthesia", "麻醉与疼痛", "Anesthesia & pain"),
]


def upgrade() -> None:
    op.create_table('therapeutic_areas',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_therapeutic_areas'))
    )
    op.create_table('listings',
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), server_default='institution', nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('summary_zh', sa.Text(), nullable=False),
    sa.Column('summary_en', sa.Text(), nullable=True),
    sa.Column('confidential_details', sa.Text(), nullable=True),
    sa.Column('keywords', sa.ARRAY(sa.String(length=60)), server_default='{}', nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('trl', sa.SmallInteger(), nullable=True),
    sa.Column('advantages', sa.Text(), nullable=True),
    sa.Column('ownership_model', sa.String(length=30), nullable=True),
    sa.Column('licence_options', sa.ARRAY(sa.String(length=20)), server_default='{}', nullable=False),
    sa.Column('licence_terms', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('engagement_modes', sa.ARRAY(sa.String(length=30)), server_default='{}', nullable=False),
    sa.Column('pricing_model', sa.String(length=20), nullable=True),
    sa.Column('availability', sa.String(length=20), nullable=True),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_stale', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'result' AND type IN ('patent', 'software', 'ivd_reagent', 'device', 'drug_candidate', 'biomaterial', 'know_how', 'clinical_data')) OR (kind = 'resource' AND type IN ('research_ward', 'trial_site', 'pi_team', 'biobank', 'disease_cohort', 'trial_ready_cohort', 'equipment', 'ethics_service', 'data_service'))", name=op.f('ck_listings_type_fits_kind')),
    sa.CheckConstraint("availability IN ('available', 'limited', 'unavailable')", name=op.f('ck_listings_availability')),
    sa.CheckConstraint("kind IN ('result', 'resource')", name=op.f('ck_listings_kind')),
    sa.CheckConstraint("owner_kind = 'institution'", name=op.f('ck_listings_owned_by_institution')),
    sa.CheckConstraint("ownership_model IN ('institution', 'researchers_ownership', 'researchers_use_right', 'joint')", name=op.f('ck_listings_ownership_model')),
    sa.CheckConstraint("pricing_model IN ('per_project', 'per_patient', 'per_sample', 'per_hour', 'annual_fee', 'negotiable')", name=op.f('ck_listings_pricing_model')),
    sa.CheckConstraint("stage IN ('discovery', 'preclinical', 'clinical_1', 'clinical_2', 'clinical_3', 'registered', 'marketed')", name=op.f('ck_listings_stage')),
    sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name=op.f('ck_listings_published_has_date')),
    sa.CheckConstraint("status IN ('draft', 'pending_review', 'published', 'withdrawn', 'archived')", name=op.f('ck_listings_status')),
    sa.CheckConstraint('trl BETWEEN 1 AND 9', name=op.f('ck_listings_trl_range')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_listings_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id', 'owner_kind'], ['organizations.id', 'organizations.kind'], name='fk_listings_institution'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    op.create_index('ix_listings_institution_status', 'listings', ['institution_id', 'status'], unique=False)
    op.create_table('ip_assets',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('jurisdiction', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('filing_date', sa.Date(), nullable=True),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("jurisdiction IN ('CN', 'PCT', 'US', 'EP', 'other')", name=op.f('ck_ip_assets_jurisdiction')),
    sa.CheckConstraint("kind IN ('invention_patent', 'utility_model', 'design_patent', 'pct_application', 'software_copyright', 'other')", name=op.f('ck_ip_assets_kind')),
    sa.CheckConstraint("status IN ('filed', 'published', 'granted', 'lapsed')", name=op.f('ck_ip_assets_status')),
    sa.CheckConstraint('expiry_date IS NULL OR filing_date IS NULL OR expiry_date > filing_date', name=op.f('ck_ip_assets_dates_in_order')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_ip_assets_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_assets')),
    sa.UniqueConstraint('listing_id', 'position', name='uq_ip_assets_position')
    )
    op.create_index(op.f('ix_ip_assets_listing_id'), 'ip_assets', ['listing_id'], unique=False)
    op.create_table('listing_areas',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['therapeutic_areas.code'], name=op.f('fk_listing_areas_area_code_therapeutic_areas')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_areas_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', 'area_code', name=op.f('pk_listing_areas'))
    )
    op.create_index(op.f('ix_listing_areas_area_code'), 'listing_areas', ['area_code'], unique=False)
    op.create_table('listing_inventors',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('share_bp BETWEEN 1 AND 10000', name=op.f('ck_listing_inventors_share_range')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_inventors_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_listing_inventors_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_inventors')),
    sa.UniqueConstraint('listing_id', 'position', name='uq_listing_inventors_position')
    )
    op.create_index(op.f('ix_listing_inventors_listing_id'), 'listing_inventors', ['listing_id'], unique=False)
    op.create_index(op.f('ix_listing_inventors_user_id'), 'listing_inventors', ['user_id'], unique=False)


    areas = sa.table(
        "therapeutic_areas",
        sa.column("code", sa.Text()),
        sa.column("name_zh", sa.Text()),
        sa.column("name_en", sa.Text()),
        sa.column("position", sa.Integer()),
    )
    op.bulk_insert(areas, [{"code": c, "name_zh": zh, "name_en": en, "position": i} for i, (c, zh, en) in enumerate(AREAS)])
    op.execute(
        """
        CREATE FUNCTION listing_inventor_shares_sum() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            listing uuid := COALESCE(NEW.listing_id, OLD.listing_id);
            total integer;
        BEGIN
            SELECT sum(share_bp) INTO total FROM listing_inventors WHERE listing_id = listing;
            IF total IS NOT NULL AND total <> 10000 THEN
                RAISE EXCEPTION 'inventor shares of listing % sum to %, not 10000', listing, total
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER listing_inventor_shares_sum AFTER INSERT OR UPDATE OR DELETE ON listing_inventors
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION listing_inventor_shares_sum()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER listing_inventor_shares_sum ON listing_inventors")
    op.execute("DROP FUNCTION listing_inventor_shares_sum()")
    op.drop_index(op.f('ix_listing_inventors_user_id'), table_name='listing_inventors')
    op.drop_index(op.f('ix_listing_inventors_listing_id'), table_name='listing_inventors')
    op.drop_table('listing_inventors')
    op.drop_index(op.f('ix_listing_areas_area_code'), table_name='listing_areas')
    op.drop_table('listing_areas')
    op.drop_index(op.f('ix_ip_assets_listing_id'), table_name='ip_assets')
    op.drop_table('ip_assets')
    op.drop_index('ix_listings_institution_status', table_name='listings')
    op.drop_table('listings')
    op.drop_table('therapeutic_areas')
