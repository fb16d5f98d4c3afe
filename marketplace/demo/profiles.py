"""The demo organizations' profiles: a description in both languages written from each one's facts
(grade, beds, research wards, GCP, place, segment) and a named contact, so the profile pages read
like a real institution's or company's."""

from __future__ import annotations

import random

from marketplace.accounts.organizations import OrganizationInput
from marketplace.accounts.profiles import ProfileInput
from marketplace.demo.organizations import INSTITUTION_META
from marketplace.demo.words import PHONE_PREFIX
from marketplace.places import CITIES, DISTRICTS

# Invented people (surname, given name, in pinyin too), for the transfer offices and business teams.
NAMES = [
    ("林", "晓雯", "Lin Xiaowen"), ("赵", "启明", "Zhao Qiming"), ("孙", "雅琪", "Sun Yaqi"), ("黄", "志远", "Huang Zhiyuan"),
    ("吴", "佳怡", "Wu Jiayi"), ("郑", "浩然", "Zheng Haoran"), ("冯", "思远", "Feng Siyuan"), ("许", "嘉宁", "Xu Jianing"),
    ("何", "俊杰", "He Junjie"), ("罗", "梦洁", "Luo Mengjie"), ("梁", "博文", "Liang Bowen"), ("宋", "雨桐", "Song Yutong"),
]  # fmt: skip
GRADES = {"3A": "三级甲等", "3B": "三级乙等", "3C": "三级丙等", "2A": "二级甲等", "2B": "二级乙等", "2C": "二级丙等", "1": "一级"}
SEGMENT = {
    "pharma": ("创新药研发", "innovative medicines"),
    "device": ("医疗器械", "medical devices"),
    "ivd": ("体外诊断", "in-vitro diagnostics"),
    "cro_cdmo": ("临床研究与生产外包服务", "contract research and manufacturing"),
    "digital_health": ("数字医疗", "digital health"),
    "other": ("医疗健康", "health care"),
}


def _place_en(org: OrganizationInput) -> str:
    district = DISTRICTS.get(org.district or "")
    city = CITIES.get(org.city, org.city)
    return f"{district} District, {city}" if district and not district.endswith("Area") else f"{district or ''} {city}".strip()


def institution_profile(org: OrganizationInput, slug: str, place: int) -> ProfileInput:
    rng = random.Random(f"profile-{org.name_zh}")
    surname, given, _pinyin = NAMES[place % len(NAMES)]
    gcp_zh = "具备国家药物临床试验机构（GCP）资质，" if org.gcp_certified else ""
    gcp_en = "It is a certified clinical trial site (GCP), " if org.gcp_certified else "It "
    zh = (
        f"{org.name_zh}是位于{org.city}{org.district or ''}的{GRADES.get(org.grade or '', '')}医院，"
        f"核定床位 {org.approved_beds} 张，其中研究型病床 {org.research_beds} 张。{gcp_zh}"
        "设有成果转化办公室，负责专利许可、技术转让与临床研究合作的对接。\n"
        "我们欢迎企业就已发布的成果与临床资源提出对接申请，转化办会在承诺的工作日内答复，并在签署保密协议后提供详细资料。"
    )
    en = (
        f"{org.name_en} is a grade {org.grade} hospital in {_place_en(org)} with {org.approved_beds:,} approved beds, "
        f"{org.research_beds} of them in research wards. {gcp_en}"
        "and its technology transfer office handles patent licences, technology transfers and clinical research partnerships.\n"
        "Companies are welcome to request a match on any published result or clinical resource: the office answers within "
        "the working days it promises and shares the details once a confidentiality agreement is signed."
    )
    return ProfileInput(
        description_zh=zh,
        description_en=en,
        contact_name=f"{surname}{given}",
        contact_title="成果转化办公室 主任" if place % 3 == 0 else "成果转化办公室 项目经理",
        contact_email=f"tto@{slug}.example",
        contact_phone=f"{PHONE_PREFIX.get(org.city, '021-6')}{rng.randint(0, 9_999_999):07d}",
    )


def company_profile(org: OrganizationInput, place: int) -> ProfileInput:
    rng = random.Random(f"profile-{org.name_zh}")
    surname, given, _pinyin = NAMES[(place + 5) % len(NAMES)]
    field_zh, field_en = SEGMENT.get(org.segment or "other", SEGMENT["other"])
    zh = (
        f"{org.name_zh}是一家总部位于{org.city}的{field_zh}企业，专注于将医院的临床需求与研究成果转化为可上市的产品。\n"
        "我们寻求与医疗机构在成果许可、联合开发与临床试验方面的长期合作。"
    )
    en = (
        f"{org.name_en or org.name_zh} is a {field_en} company based in {CITIES.get(org.city, org.city)}, turning hospitals' "
        "clinical needs and research results into products.\n"
        "We look for long-term partnerships with hospitals on licences, co-development and clinical trials."
    )
    domain = (org.name_en or "company").split()[0].lower().strip(",.")
    return ProfileInput(
        description_zh=zh,
        description_en=en,
        contact_name=f"{surname}{given}",
        contact_title="商务拓展总监",
        contact_email=f"bd@{domain}.example",
        contact_phone=f"{PHONE_PREFIX.get(org.city, '021-6')}{rng.randint(0, 9_999_999):07d}",
    )


def demo_profiles(institutions: list[OrganizationInput], companies: list[OrganizationInput]) -> list[tuple[str, ProfileInput]]:
    """(Chinese name, profile) of every demo institution and company."""
    found = [
        (org.name_zh, institution_profile(org, meta.slug, i))
        for i, (org, meta) in enumerate(zip(institutions, INSTITUTION_META, strict=True))
    ]
    found += [(org.name_zh, company_profile(org, i)) for i, org in enumerate(companies)]
    return found
