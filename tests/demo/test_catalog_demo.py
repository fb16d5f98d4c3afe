"""The demo catalogue (marketplace/demo: data files and their generator): pure data, no database."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path

import msgspec
import pytest

from marketplace.accounts.organizations import is_valid_credit_code, validate_organization
from marketplace.catalog.models import Availability, IpKind, Jurisdiction, OwnershipModel, ResourceType, ResultType, Stage
from marketplace.catalog.schemas import RESOURCE_DETAILS, ListingCreate
from marketplace.catalog.validation import valid_ip_number
from marketplace.demo import catalogue as catalog_demo
from marketplace.demo.catalogue import (
    CONFIDENTIAL_MARKERS,
    FOUNDATION_INSTITUTION_COUNT,
    MORE_COMPANIES,
    MORE_INSTITUTIONS,
    RESOURCE_COUNT,
    RESULT_COUNT,
    THERAPEUTIC_AREAS,
    demo_listings,
)
from marketplace.demo.organizations import COMPANIES as FOUNDATION_COMPANIES
from marketplace.demo.organizations import INSTITUTIONS as FOUNDATION_INSTITUTIONS

ALL_INSTITUTIONS = [*FOUNDATION_INSTITUTIONS, *MORE_INSTITUTIONS]
PUBLIC_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en", "advantages", "contact_name", "contact_email")
STAGE_TRL = {
    Stage.discovery: range(1, 4),
    Stage.preclinical: range(3, 6),
    Stage.clinical_1: range(5, 7),
    Stage.clinical_2: range(6, 8),
    Stage.clinical_3: range(7, 9),
    Stage.registered: range(8, 10),
    Stage.marketed: range(9, 10),
}


@pytest.fixture(scope="module")
def listings():
    return demo_listings()


@pytest.fixture(scope="module")
def results(listings):
    return [x for x in listings if x.data.kind == "result"]


@pytest.fixture(scope="module")
def resources(listings):
    return [x for x in listings if x.data.kind == "resource"]


# ----- organizations ----------------------------------------------------------------------------


def test_thirty_institutions_by_city():
    assert FOUNDATION_INSTITUTION_COUNT == len(FOUNDATION_INSTITUTIONS) == 3
    assert len(MORE_INSTITUTIONS) == 27
    assert Counter(i.city for i in ALL_INSTITUTIONS) == {"上海": 12, "北京": 10, "杭州": 8}
    names = [i.name_zh for i in ALL_INSTITUTIONS]
    assert len(set(names)) == 30
    assert len({i.name_en for i in ALL_INSTITUTIONS}) == 30


def test_the_generators_institution_facts_match_the_organizations():
    for meta, inst in zip(catalog_demo.INSTITUTION_META, ALL_INSTITUTIONS, strict=True):
        assert (meta.name_zh, meta.city, meta.beds, meta.research_beds) == (
            inst.name_zh,
            inst.city,
            inst.approved_beds,
            inst.research_beds,
        )
        assert meta.threshold == inst.pi_concurrent_trial_threshold
        assert meta.alliance == inst.ethics_alliance_member
        assert meta.gcp == inst.gcp_certified


def test_institutions_are_valid():
    districts = {
        "上海": {
            "黄浦区",
            "徐汇区",
            "长宁区",
            "静安区",
            "普陀区",
            "虹口区",
            "杨浦区",
            "闵行区",
            "宝山区",
            "嘉定区",
            "浦东新区",
            "金山区",
            "松江区",
            "青浦区",
            "奉贤区",
            "崇明区",
        },
        "北京": {
            "东城区",
            "西城区",
            "朝阳区",
            "丰台区",
            "石景山区",
            "海淀区",
            "门头沟区",
            "房山区",
            "通州区",
            "顺义区",
            "昌平区",
            "大兴区",
            "怀柔区",
            "平谷区",
            "密云区",
            "延庆区",
        },
        "杭州": {
            "上城区",
            "拱墅区",
            "西湖区",
            "滨江区",
            "萧山区",
            "余杭区",
            "临平区",
            "钱塘区",
            "富阳区",
            "临安区",
            "桐庐县",
            "淳安县",
            "建德市",
        },
    }
    for inst in MORE_INSTITUTIONS:
        validate_organization(inst)
        assert inst.kind == "institution"
        assert inst.district in districts[inst.city]
        assert 500 <= inst.approved_beds <= 4000
        assert inst.research_beds > 0 and inst.research_beds * 10 <= inst.approved_beds
        assert 3 <= inst.pi_concurrent_trial_threshold <= 8
        assert inst.name_en
    assert sum(i.grade == "3A" for i in MORE_INSTITUTIONS) >= 20
    assert sum(i.gcp_certified for i in MORE_INSTITUTIONS) >= 20
    assert 5 <= sum(i.ethics_alliance_member for i in MORE_INSTITUTIONS) <= 22


def test_companies_have_valid_distinct_credit_codes():
    assert len(MORE_COMPANIES) == 8
    codes = [c.credit_code for c in [*FOUNDATION_COMPANIES, *MORE_COMPANIES]]
    assert all(is_valid_credit_code(code) for code in codes)
    assert all(re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert {c.segment for c in MORE_COMPANIES} == {"pharma", "device", "ivd", "cro_cdmo", "digital_health"}
    for company in MORE_COMPANIES:
        validate_organization(company)
        assert company.kind == "company" and company.name_en


# ----- listings ---------------------------------------------------------------------------------


def test_counts(listings, results, resources):
    assert len(listings) == RESULT_COUNT + RESOURCE_COUNT
    assert (len(results), len(resources)) == (RESULT_COUNT, RESOURCE_COUNT) == (600, 250)


def test_every_type_stage_and_area_is_used(listings, results, resources):
    assert {x.data.type for x in results} == set(ResultType)
    assert {x.data.type for x in resources} == set(ResourceType)
    assert {x.data.stage for x in results} == set(Stage)
    assert {a for x in listings for a in x.data.therapeutic_areas} == set(THERAPEUTIC_AREAS)
    assert {x.data.ownership_model for x in results} == set(OwnershipModel)
    assert {x.data.availability for x in resources} == set(Availability)
    patents = Counter(x.data.type for x in results)
    assert patents.most_common(1)[0][0] == ResultType.patent


def test_every_listing_round_trips_through_the_api_shape(listings):
    for x in listings:
        assert isinstance(x.data, ListingCreate)
        assert msgspec.convert(msgspec.to_builtins(x.data), ListingCreate) == x.data


def test_listings_spread_over_all_institutions_and_cities(listings):
    per_institution = Counter(x.institution_index for x in listings)
    assert set(per_institution) == set(range(30))
    assert min(per_institution.values()) >= 3
    shanghai = [i for i, inst in enumerate(ALL_INSTITUTIONS) if inst.city == "上海"]
    biggest_shanghai = max(shanghai, key=lambda i: ALL_INSTITUTIONS[i].approved_beds)
    assert per_institution[biggest_shanghai] >= sorted(per_institution.values())[-8]
    cities = Counter(ALL_INSTITUTIONS[x.institution_index].city for x in listings)
    assert cities["上海"] > cities["北京"] > cities["杭州"] > 100


def test_titles_unique_and_texts_sized(listings):
    titles = [x.data.title_zh for x in listings]
    assert len(set(titles)) == len(titles)
    english = [x for x in listings if x.data.title_en]
    assert 0.3 <= len(english) / len(listings) <= 0.5
    assert all(x.data.summary_en for x in english)
    assert len({x.data.title_en for x in english}) == len(english)
    for x in listings:
        d = x.data
        sentences = [s for s in re.split(r"[。！？]", d.summary_zh) if s.strip()]
        assert 2 <= len(sentences) <= 4, d.summary_zh
        assert 3 <= len(d.keywords) <= 6 and len(set(d.keywords)) == len(d.keywords)
        assert 1 <= len(d.therapeutic_areas) <= 3 and set(d.therapeutic_areas) <= set(THERAPEUTIC_AREAS)
        assert d.contact_name and d.contact_email.endswith(".example") and d.contact_phone


def test_results_fields(results):
    pay_later = 0
    for x in results:
        d = x.data
        assert d.trl in STAGE_TRL[d.stage]
        assert d.ownership_model is not None
        assert 1 <= len(d.licence_options) <= 3
        assert len({o.option for o in d.licence_options}) == len(d.licence_options)
        assert all(o.terms for o in d.licence_options)
        pay_later += any(o.option == "pay_later" for o in d.licence_options)
        assert 1 <= len(d.inventors) <= 4
        assert sum(i.share_bp for i in d.inventors) == 10_000
        assert all(i.user_id is None and i.share_bp > 0 for i in d.inventors)
        assert len({i.name for i in d.inventors}) == len(d.inventors)
        assert d.details is None and d.engagement_modes is None
        if x.status == "published":
            assert d.advantages, d.title_zh
    assert 0.18 <= pay_later / len(results) <= 0.35
    # The foundation demo's inventor user (浦江医学中心) is named on some of its results.
    assert any(x.institution_index == 0 and x.data.inventors[0].name == catalog_demo.FOUNDATION_INVENTOR_NAME for x in results)
    assert sum(bool(x.data.confidential_details) for x in results) / len(results) > 0.7


IP_NUMBER = {
    Jurisdiction.CN: r"(ZL|CN)20\d{2}[123]\d{7}\.[\dX]|CN1\d{8}A|20\d{2}SR\d{7}",
    Jurisdiction.PCT: r"PCT/CN20\d{2}/\d{6}",
    Jurisdiction.US: r"US \d{2},\d{3},\d{3} B[12]|US 20\d{2}/\d{7} A1",
    Jurisdiction.EP: r"EP \d{7} [AB]1",
}


def test_ip_assets(results):
    numbers = []
    for x in results:
        assets = x.data.ip_assets
        assert len(assets) <= 3
        if x.data.type in (ResultType.patent, ResultType.drug_candidate):
            assert assets
        if x.data.type in (ResultType.know_how, ResultType.clinical_data):
            assert not assets
        for asset in assets:
            numbers.append(asset.number)
            assert re.fullmatch(IP_NUMBER[asset.jurisdiction], asset.number), asset.number
            assert valid_ip_number(asset.number, asset.kind, asset.jurisdiction), asset.number
            assert asset.filing_date is not None
            if asset.expiry_date is not None:
                assert asset.filing_date < asset.expiry_date
            if asset.kind == IpKind.invention_patent:
                assert asset.expiry_date == asset.filing_date.replace(year=asset.filing_date.year + 20)
                if asset.number.startswith(("ZL", "CN20")):
                    assert asset.number[2:6] == str(asset.filing_date.year)
            if asset.kind == IpKind.pct_application:
                assert asset.jurisdiction == Jurisdiction.PCT
                assert asset.number[6:10] == str(asset.filing_date.year)
    assert len(numbers) == len(set(numbers))
    kinds = {a.jurisdiction for x in results for a in x.data.ip_assets}
    assert kinds == {Jurisdiction.CN, Jurisdiction.PCT, Jurisdiction.US, Jurisdiction.EP}


def test_cn_application_numbers_carry_their_check_digit(results):
    for x in results:
        for asset in x.data.ip_assets:
            m = re.fullmatch(r"(?:ZL|CN)(\d{12})\.([\dX])", asset.number)
            if m:
                total = sum(int(c) * w for c, w in zip(m[1], (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True)) % 11
                assert m[2] == ("X" if total == 10 else str(total))


def test_resource_details_validate_against_their_type(resources):
    for x in resources:
        d = x.data
        schema = RESOURCE_DETAILS[d.type]
        msgspec.convert(d.details, schema)
        assert d.engagement_modes and d.pricing_model and d.availability
        assert d.stage is None and d.inventors is None and d.licence_options is None
    assert sum(x.data.availability == "available" for x in resources) / len(resources) > 0.6


def test_research_wards_fit_each_institutions_research_beds(resources):
    beds = Counter()
    for x in resources:
        if x.data.type == ResourceType.research_ward:
            beds[x.institution_index] += x.data.details["beds"]
    for index, total in beds.items():
        assert total <= ALL_INSTITUTIONS[index].research_beds
        assert ALL_INSTITUTIONS[index].gcp_certified


def test_status_mix_and_freshness(listings):
    statuses = Counter(x.status for x in listings)
    assert set(statuses) == {"draft", "pending_review", "published", "withdrawn", "archived"}
    assert 0.8 <= statuses["published"] / len(listings) <= 0.9
    published = [x for x in listings if x.status == "published"]
    for x in listings:
        if x.status == "published":
            assert 1 <= x.published_days_ago <= 900
            assert 0 <= x.confirmed_days_ago <= min(400, x.published_days_ago)
        else:
            assert x.published_days_ago is None and x.confirmed_days_ago is None
    stale = sum(x.confirmed_days_ago > 180 for x in published) / len(published)
    assert 0.08 <= stale <= 0.18


def test_dates_helpers(listings):
    from datetime import datetime

    now = datetime(2026, 11, 22, tzinfo=UTC)
    x = next(x for x in listings if x.status == "published")
    assert x.published_at(now) == now - timedelta(days=x.published_days_ago)
    assert x.confirmed_at(now) >= x.published_at(now)
    draft = next(x for x in listings if x.status == "draft")
    assert draft.published_at(now) is None and draft.confirmed_at(now) is None


def test_confidential_words_never_reach_public_fields(listings):
    confidential = [x.data.confidential_details for x in listings if x.data.confidential_details]
    assert len(confidential) > 500
    for text in confidential:
        assert all(marker in text for marker in CONFIDENTIAL_MARKERS), text
    internal_numbers = [re.search(r"MKT-R?\d{4}", t)[0] for t in confidential]
    assert len(set(internal_numbers)) == len(internal_numbers)
    for x in listings:
        d = x.data
        public = [getattr(d, f) or "" for f in PUBLIC_FIELDS]
        public += d.keywords
        public += [o.terms for o in d.licence_options or ()]
        public += [str(v) for v in (d.details or {}).values()]
        for text in public:
            for word in catalog_demo.CONFIDENTIAL_ONLY_WORDS:
                assert word not in text, (word, text)


def test_same_seed_same_data_other_seed_other_data():
    first, second = demo_listings(2026), demo_listings(2026)
    assert msgspec.to_builtins([x.data for x in first]) == msgspec.to_builtins([x.data for x in second])
    assert [(x.institution_index, x.status, x.published_days_ago) for x in first] == [
        (x.institution_index, x.status, x.published_days_ago) for x in second
    ]
    other = demo_listings(7)
    assert [x.data.title_zh for x in other] != [x.data.title_zh for x in first]
    assert len({x.data.title_zh for x in other}) == len(other)


def test_deterministic_across_processes():
    """No set or hash ordering leaks into the data: two interpreters with different hash seeds agree."""
    code = (
        "import hashlib, msgspec; from marketplace.demo.catalogue import demo_listings; "
        "print(hashlib.sha256(msgspec.json.encode([[x.institution_index, x.status, x.published_days_ago, "
        "x.confirmed_days_ago, x.data] for x in demo_listings()])).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
