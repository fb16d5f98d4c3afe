"""IP assets, licence offers, inventors, contacts, keywords, status and dates, and which institution
a demo listing belongs to."""

from __future__ import annotations

import random
from datetime import date, timedelta

from marketplace.catalog.models import IpKind, IpStatus, Jurisdiction, LicenceOption, ResultType, Stage
from marketplace.demo.ideas import EARLY, person
from marketplace.demo.organizations import FOUNDATION_INSTITUTION_COUNT, INSTITUTION_META, InstitutionMeta
from marketplace.demo.words import FOUNDATION_INVENTOR_NAME, PHONE_PREFIX, STALE_SHARE, STATUS_WEIGHTS


def _cn_check(app12: str) -> str:
    total = sum(int(c) * w for c, w in zip(app12, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _random_date(rng: random.Random, first_year: int, last_year: int) -> date:
    start, end = date(first_year, 1, 1), date(last_year, 12, 31)
    return start + timedelta(days=rng.randint(0, (end - start).days))


class IpFactory:
    """Numbers in the formats each office uses, unique across the whole demo."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make) -> str:
        while True:
            number = make()
            if number not in self.used:
                self.used.add(number)
                return number

    def cn(self, kind: str, filed: date) -> dict:
        rng = self.rng
        type_digit = {IpKind.invention_patent: "1", IpKind.utility_model: "2", IpKind.design_patent: "3"}[IpKind(kind)]
        years = {IpKind.invention_patent: 20, IpKind.utility_model: 10, IpKind.design_patent: 15}[IpKind(kind)]
        age_days = (date(2026, 6, 30) - filed).days
        if kind == IpKind.invention_patent:
            if age_days < 540:
                status = IpStatus.filed
            elif age_days < 1100:
                status = rng.choice((IpStatus.published, IpStatus.granted))
            else:
                status = IpStatus.lapsed if rng.random() < 0.05 else IpStatus.granted
        else:
            status = IpStatus.filed if age_days < 200 else IpStatus.granted

        def make() -> str:
            app = f"{filed.year}{type_digit}{rng.randint(0, 9_999_999):07d}"
            if status == IpStatus.published:
                prefix = min(112 + 2 * max(filed.year - 2020, 0), 119)
                return f"CN{prefix}{rng.randint(0, 999_999):06d}A"
            if status == IpStatus.filed:
                return f"CN{app}.{_cn_check(app)}"
            return f"ZL{app}.{_cn_check(app)}"

        return {
            "number": self._unique(make),
            "kind": kind,
            "jurisdiction": Jurisdiction.CN,
            "status": status,
            "filing_date": filed,
            "expiry_date": _add_years(filed, years),
        }

    def pct(self, filed: date) -> dict:
        number = self._unique(lambda: f"PCT/CN{filed.year}/{self.rng.randint(70_000, 159_999):06d}")
        return {
            "number": number,
            "kind": IpKind.pct_application,
            "jurisdiction": Jurisdiction.PCT,
            "status": IpStatus.published if (date(2026, 6, 30) - filed).days > 400 else IpStatus.filed,
            "filing_date": filed,
        }

    def foreign(self, jurisdiction: str, filed: date) -> dict:
        rng = self.rng
        granted = filed.year <= 2021 and rng.random() < 0.7
        if jurisdiction == Jurisdiction.US:
            if granted:
                make = lambda: f"US {rng.randint(10_800_000, 12_400_000):,} B2"  # noqa: E731
            else:
                make = lambda: f"US {filed.year + 1}/{rng.randint(10_000, 399_999):07d} A1"  # noqa: E731
        else:
            make = lambda: f"EP {rng.randint(3_600_000, 4_400_000)} {'B1' if granted else 'A1'}"  # noqa: E731
        return {
            "number": self._unique(make),
            "kind": IpKind.invention_patent,
            "jurisdiction": jurisdiction,
            "status": IpStatus.granted if granted else IpStatus.published,
            "filing_date": filed,
            "expiry_date": _add_years(filed, 20),
        }

    def software_copyright(self, year: int) -> dict:
        number = self._unique(lambda: f"{year}SR{self.rng.randint(10_000, 1_999_999):07d}")
        return {
            "number": number,
            "kind": IpKind.software_copyright,
            "jurisdiction": Jurisdiction.CN,
            "status": IpStatus.granted,
            "filing_date": _random_date(self.rng, year, year),
        }

    def family(self, result_type: str, category: str) -> list[dict]:
        rng = self.rng
        if result_type == ResultType.software:
            assets = [self.software_copyright(rng.randint(2018, 2025))]
            if rng.random() < 0.3:
                assets.append(self.cn(IpKind.invention_patent, _random_date(rng, 2017, 2025)))
            return assets
        if result_type in (ResultType.know_how, ResultType.clinical_data):
            return []
        count = {
            ResultType.patent: rng.choice((1, 1, 2, 2, 3)),
            ResultType.drug_candidate: rng.choice((1, 2, 2, 3, 3)),
            ResultType.device: rng.choice((0, 1, 1, 2, 3)),
            ResultType.ivd_reagent: rng.choice((0, 1, 1, 2)),
            ResultType.biomaterial: rng.choice((0, 1, 1, 2)),
        }[ResultType(result_type)]
        if count == 0:
            return []
        base = _random_date(rng, 2014, 2025)
        if category == "dev" and rng.random() < 0.5:
            first = self.cn(rng.choice((IpKind.utility_model, IpKind.utility_model, IpKind.design_patent)), base)
        else:
            first = self.cn(IpKind.invention_patent, base)
        assets = [first]
        pct_filed = base + timedelta(days=rng.randint(300, 364))
        if count >= 2 and pct_filed < date(2026, 6, 1):
            assets.append(self.pct(pct_filed))
            if count >= 3 and pct_filed < date(2024, 6, 1):
                assets.append(self.foreign(rng.choice((Jurisdiction.US, Jurisdiction.EP)), pct_filed))
        elif count >= 2 and category == "dev":
            assets.append(self.cn(IpKind.utility_model, base + timedelta(days=rng.randint(1, 200))))
        return assets


_YEARS_ZH = {1: "一", 2: "两", 3: "三"}


_WITHOUT_PATENT = (ResultType.know_how, ResultType.clinical_data, ResultType.software)


def _licence_terms(rng: random.Random, option: str, stage: str, result_type: str) -> str:
    scale = {
        Stage.discovery: 1,
        Stage.preclinical: 2,
        Stage.clinical_1: 5,
        Stage.clinical_2: 8,
        Stage.clinical_3: 12,
        Stage.registered: 20,
        Stage.marketed: 20,
    }[Stage(stage)]
    if option == LicenceOption.assignment:
        return f"转让：参考价{scale * rng.randint(20, 60)}万元，可分{rng.choice(('两', '三'))}期支付"
    if option == LicenceOption.exclusive:
        term = f"许可期限{rng.choice((5, 8, 10))}年" if result_type in _WITHOUT_PATENT else "许可期限至专利届满"
        return f"独占许可：入门费{scale * rng.randint(10, 40)}万元，另按净销售额{rng.choice((2, 3, 4, 5))}%提成，{term}"
    if option == LicenceOption.non_exclusive:
        return f"普通许可：年许可费{scale * rng.randint(3, 12)}万元，可按适应证或地域分别许可"
    if option == LicenceOption.pay_later:
        years = rng.choice((1, 2, 2, 3))
        return (
            f"先使用后付费：前{_YEARS_ZH[years]}年免许可费，之后按销售额{rng.choice((2, 3, 3, 4, 5))}%提成；"
            f"{_YEARS_ZH[years]}年内未实施转化的，权利无偿退回"
        )
    if option == LicenceOption.equity:
        return f"作价投资：作价约{scale * rng.randint(50, 200)}万元入股，发明人团队可依政策获得股权奖励"
    return "联合开发：企业承担后续研发费用，形成的新成果共有，收益按约定比例分配"


_OTHER_OPTIONS = [
    LicenceOption.exclusive,
    LicenceOption.non_exclusive,
    LicenceOption.assignment,
    LicenceOption.equity,
    LicenceOption.co_development,
]


def licence_offers(rng: random.Random, result_type: str, stage: str) -> list[dict]:
    options: list[str] = []
    if rng.random() < 0.25:
        options.append(LicenceOption.pay_later)
    if result_type in (ResultType.know_how, ResultType.clinical_data):
        weights = [15, 40, 5, 3, 30]  # exclusive, non-exclusive, assignment, equity, co-development
    else:
        weights = [
            30,
            25,
            15,
            15 if result_type in (ResultType.drug_candidate, ResultType.device, ResultType.patent) else 5,
            20 if stage in EARLY else 8,
        ]
    for _ in range(rng.randint(1, 3) - len(options)):
        choice = rng.choices(_OTHER_OPTIONS, weights)[0]
        if choice not in options:
            options.append(choice)
    if not options:
        options.append(LicenceOption.exclusive)
    return [{"option": o, "terms": _licence_terms(rng, o, stage, result_type)} for o in options]


def _shares(rng: random.Random, n: int) -> list[int]:
    """Basis points that sum to 10,000, largest first, in steps of 500."""
    cuts = sorted(rng.sample(range(1, 20), n - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
    return sorted((p * 500 for p in parts), reverse=True)


def inventors(rng: random.Random, institution_index: int) -> list[dict]:
    n = rng.choice((1, 2, 2, 3, 3, 3, 4))
    names: list[str] = []
    if institution_index == 0 and rng.random() < 0.3:
        names.append(FOUNDATION_INVENTOR_NAME)
    while len(names) < n:
        name, _ = person(rng)
        if name not in names:
            names.append(name)
    return [{"name": name, "share_bp": share} for name, share in zip(names, _shares(rng, n), strict=True)]


def make_contact(rng: random.Random, inst: InstitutionMeta, office: str, mailbox: str) -> dict:
    name, _ = person(rng)
    return {
        "contact_name": f"{name}（{office}）",
        "contact_email": f"{mailbox}@{inst.slug}.example",
        "contact_phone": f"{PHONE_PREFIX[inst.city]}{rng.randint(0, 9_999_999):07d}",
    }


def unique_keywords(words: list[str], rng: random.Random, extra: list[str]) -> list[str]:
    pool = list(dict.fromkeys(w for w in words if w))
    for word in rng.sample(extra, len(extra)):
        if len(pool) >= 6:
            break
        if word and word not in pool:
            pool.append(word)
    return pool[: rng.randint(min(len(pool), 3), min(len(pool), 6))]


def first_areas(*groups) -> list[str]:
    areas: list[str] = []
    for group in groups:
        for area in group or ():
            if area and area not in areas:
                areas.append(area)
    return areas[:3]


# ----- status and dates -------------------------------------------------------------------------


def status_and_dates(rng: random.Random) -> tuple[str, int | None, int | None]:
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    if status != "published":
        return status, None, None
    if rng.random() < STALE_SHARE:
        published = rng.randint(181, 900)
        return status, published, rng.randint(181, min(400, published))
    published = int(rng.triangular(1, 900, 60))
    return status, published, rng.randint(0, min(published, 180))


# ----- institutions' weights --------------------------------------------------------------------


def institution_weights(areas: list[str]) -> list[float]:
    """Big hospitals get more; Shanghai more still; specialty hospitals mostly get their own fields."""
    weights = []
    for index, inst in enumerate(INSTITUTION_META):
        w = inst.beds / 1000 * (1.5 if inst.city == "上海" else 1.0)
        if index < FOUNDATION_INSTITUTION_COUNT:  # the demo logins' institutions, 浦江医学中心 most of all
            w *= 2.5 if index == 0 else 1.5
        if inst.focus and areas:
            w *= 15.0 if any(a in inst.focus for a in areas) else 0.05
        weights.append(w)
    return weights


def pick_institution(rng: random.Random, areas: list[str], *, gcp: bool = False) -> int:
    weights = institution_weights(areas)
    if gcp:
        weights = [w if inst.gcp else 0.0 for w, inst in zip(weights, INSTITUTION_META, strict=True)]
    return rng.choices(range(len(INSTITUTION_META)), weights)[0]
