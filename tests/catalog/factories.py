"""Listing bodies for the catalogue tests."""

from __future__ import annotations


def result_body(**overrides) -> dict:
    body = {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "title_en": "Exosome-based early liver cancer detection",
        "summary_zh": "一种利用血液外泌体miRNA组合检测早期肝癌的方法，灵敏度高。",
        "confidential_details": "未公开数据：关键引物序列 MKT-SECRET-7731",
        "therapeutic_areas": ["oncology", "digestive"],
        "keywords": ["外泌体", "肝癌", "早筛"],
        "contact_name": "周颖",
        "contact_email": "tto@hospital.test",
        "stage": "preclinical",
        "trl": 4,
        "advantages": "较现有AFP检测灵敏度提高30%，仅需常规采血。",
        "ownership_model": "researchers_ownership",
        "licence_options": [
            {"option": "exclusive", "terms": "入门费50万元，销售提成3%"},
            {"option": "pay_later", "terms": "前两年免许可费，之后按销售额3%提成"},
        ],
        "ip_assets": [
            {"number": "ZL202110234567.8", "kind": "invention_patent", "jurisdiction": "CN", "status": "granted",
             "filing_date": "2021-03-01", "expiry_date": "2041-03-01"},
            {"number": "PCT/CN2022/123456", "kind": "pct_application", "jurisdiction": "PCT", "status": "filed"},
        ],
        "inventors": [{"name": "张晓华", "share_bp": 6000}, {"name": "李明", "share_bp": 4000}],
    }
    body.update(overrides)
    return body


def resource_body(**overrides) -> dict:
    body = {
        "kind": "resource",
        "type": "research_ward",
        "title_zh": "肿瘤早期临床研究型病房",
        "summary_zh": "40张研究型床位，承接I期及生物等效性试验。",
        "therapeutic_areas": ["oncology"],
        "contact_email": "ward@hospital.test",
        "details": {"beds": 40, "specialties": ["肿瘤", "血液"]},
        "engagement_modes": ["clinical_trial"],
        "pricing_model": "per_patient",
        "availability": "available",
    }
    body.update(overrides)
    return body


def result_form(**overrides) -> dict:
    """The listing page's form for the result of result_body(), as a browser submits it: checkbox
    groups with their blank hidden input, blank rows included."""
    form = {
        "kind": "result",
        "type": "patent",
        "title_zh": "基于外泌体的早期肝癌检测方法",
        "title_en": "Exosome-based early liver cancer detection",
        "summary_zh": "一种利用血液外泌体miRNA组合检测早期肝癌的方法，灵敏度高。",
        "summary_en": "",
        "confidential_details": "未公开数据：关键引物序列 MKT-SECRET-7731",
        "keywords": "外泌体；肝癌, 早筛",
        "therapeutic_areas": ["", "oncology", "digestive"],
        "contact_name": "周颖",
        "contact_email": "tto@hospital.test",
        "contact_phone": "",
        "stage": "preclinical",
        "trl": "4",
        "advantages": "较现有AFP检测灵敏度提高30%，仅需常规采血。",
        "ownership_model": "researchers_ownership",
        "licence_options": ["", "exclusive", "pay_later"],
        "licence_terms.exclusive": "入门费50万元，销售提成3%",
        "licence_terms.pay_later": "前两年免许可费，之后按销售额3%提成",
        "licence_terms.equity": "",
        "inventors[0].name": "张晓华",
        "inventors[0].share": "60",
        "inventors[0].user_id": "",
        "inventors[1].name": "李明",
        "inventors[1].share": "40",
        "inventors[1].user_id": "",
        "inventors[2].name": "",
        "inventors[2].share": "",
        "inventors[2].user_id": "",
    }
    rows = [
        ("ZL202110234567.8", "invention_patent", "CN", "granted", "2021-03-01", "2041-03-01"),
        ("PCT/CN2022/123456", "pct_application", "PCT", "filed", "", ""),
        ("", "invention_patent", "CN", "filed", "", ""),
    ]
    for i, row in enumerate(rows):
        for part, value in zip(("number", "kind", "jurisdiction", "status", "filing_date", "expiry_date"), row, strict=True):
            form[f"ip_assets[{i}].{part}"] = value
    form.update(overrides)
    return form


def match_body(listing_id, **overrides) -> dict:
    """A company's match request on a result, as the API takes it."""
    body = {
        "listing_id": str(listing_id),
        "engagement_type": "licence",
        "purpose": "拟开发早期肝癌血液检测试剂盒，申报三类医疗器械注册。",
        "timeline": "2027年一季度完成评估，二季度签约",
        "budget_min_fen": 50_000_000,
        "budget_max_fen": 80_000_000,
        "message": "希望了解引物序列与验证数据。",
        "nda_version": 1,
        "accept_nda": True,
    }
    body.update(overrides)
    return body


def match_form(**overrides) -> dict:
    """The same request as the listing's request form sends it (budget in 万元)."""
    form = {
        "engagement_type": "licence",
        "purpose": "拟开发早期肝癌血液检测试剂盒，申报三类医疗器械注册。",
        "timeline": "2027年一季度完成评估，二季度签约",
        "budget_min": "50",
        "budget_max": "80",
        "message": "希望了解引物序列与验证数据。",
        "nda_version": "1",
        "accept_nda": "on",
    }
    form.update(overrides)
    return form


def need_body(**overrides) -> dict:
    """A company's need, as the API takes it (deadline a month ahead)."""
    from datetime import date, timedelta

    body = {
        "title": "寻求肝癌早期诊断试剂合作",
        "problem": "我司计划开发基于血液的肝癌早期筛查试剂盒，寻求具备外泌体或液体活检技术的医院团队合作，需有临床样本验证数据。",
        "therapeutic_areas": ["oncology"],
        "wanted": ["patent", "ivd_reagent"],
        "budget_min_fen": 100_000_000,
        "budget_max_fen": 300_000_000,
        "deadline": (date.today() + timedelta(days=30)).isoformat(),  # far enough for any time zone
        "visibility": "public",
    }
    body.update(overrides)
    return body


def need_form(**overrides) -> dict:
    """The same need as the need form sends it (budget in 万元; list fields as lists)."""
    from datetime import date, timedelta

    form = {
        "title": "寻求肝癌早期诊断试剂合作",
        "problem": "我司计划开发基于血液的肝癌早期筛查试剂盒，寻求医院团队合作。",
        "areas": ["oncology"],
        "wanted": ["patent"],
        "budget_min": "100",
        "budget_max": "300",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),  # far enough for any time zone
        "visibility": "public",
    }
    form.update(overrides)
    return form


def response_body(listing_id, **overrides) -> dict:
    body = {
        "proposal": "本院外泌体miRNA检测方法已完成300例临床样本验证，可授权并联合开发。",
        "listing_ids": [str(listing_id)],
        "budget_min_fen": 150_000_000,
        "budget_max_fen": 250_000_000,
        "timeline": "三个月内完成技术转移",
    }
    body.update(overrides)
    return body
