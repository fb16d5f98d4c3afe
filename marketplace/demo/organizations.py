"""The demo's organizations and people, from data/organizations.yaml."""

from __future__ import annotations

from typing import NamedTuple, TypeVar

from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character
from marketplace.demo.tables import table

_DATA = table("organizations")

DEMO_PASSWORD: str = _DATA["password"]
# The organizations with logins: the first three institutions and the first two companies.
FOUNDATION_INSTITUTION_COUNT = 3
FOUNDATION_COMPANY_COUNT = 2


class InstitutionMeta(NamedTuple):
    """What the catalogue generator needs to know of an institution."""

    name_zh: str
    name_en: str
    city: str
    slug: str  # for demo e-mail addresses
    beds: int
    research_beds: int
    alliance: bool
    threshold: int  # pi_concurrent_trial_threshold
    gcp: bool
    focus: tuple[str, ...]  # therapeutic areas of a specialty hospital; () for a general hospital


def _institution(row: dict) -> OrganizationInput:
    return OrganizationInput(kind="institution", **{k: v for k, v in row.items() if k not in ("email_slug", "focus")})


def _company(row: dict) -> OrganizationInput:
    first17 = row["credit_code_first17"]
    fields = {k: v for k, v in row.items() if k != "credit_code_first17"}
    return OrganizationInput(kind="company", credit_code=first17 + credit_code_check_character(first17), **fields)


PLATFORM = OrganizationInput(kind="platform", **_DATA["platform"])
ALL_INSTITUTIONS = [_institution(row) for row in _DATA["institutions"]]
ALL_COMPANIES = [_company(row) for row in _DATA["companies"]]
INSTITUTIONS = ALL_INSTITUTIONS[:FOUNDATION_INSTITUTION_COUNT]
MORE_INSTITUTIONS = ALL_INSTITUTIONS[FOUNDATION_INSTITUTION_COUNT:]
COMPANIES = ALL_COMPANIES[:FOUNDATION_COMPANY_COUNT]
MORE_COMPANIES = ALL_COMPANIES[FOUNDATION_COMPANY_COUNT:]
_T = TypeVar("_T")


def _given(value: _T | None, what: str) -> _T:
    """A field optional for organizations in general that the demo's institutions all have."""
    if value is None:
        raise ValueError(f"data/organizations.yaml: an institution has no {what}")
    return value


INSTITUTION_META = [
    InstitutionMeta(
        i.name_zh,
        _given(i.name_en, "name_en"),
        i.city,
        row["email_slug"],
        _given(i.approved_beds, "approved_beds"),
        _given(i.research_beds, "research_beds"),
        i.ethics_alliance_member,
        _given(i.pi_concurrent_trial_threshold, "pi_concurrent_trial_threshold"),
        i.gcp_certified,
        tuple(row["focus"]),
    )
    for i, row in zip(ALL_INSTITUTIONS, _DATA["institutions"], strict=True)
]

# (organization's Chinese name, e-mail, name, role); one person may appear in two organizations.
USERS: list[tuple[str, str, str, str]] = [(u["organization"], u["email"], u["name"], u["role"]) for u in _DATA["users"]]
SAVED_SEARCHES: list[dict] = _DATA["saved_searches"]
