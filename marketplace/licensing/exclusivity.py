"""Whether an agreement may be approved: the licensee must not already hold an exclusive licence
over the same result and field; no exclusive licence may overlap another licence in territory,
field and time, nor be granted while an open licence is declared on the result; the result's
ownership model must allow the kind of agreement (赋权 changes who may grant what)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.catalog.models import OwnershipModel
from marketplace.catalog.services import CatalogService
from marketplace.errors import Conflict, FieldError
from marketplace.i18n import N_
from marketplace.licensing.models import (
    EXCLUSIVE_KINDS,
    LIVE_STATES,
    Agreement,
    AgreementResult,
    Kind,
    OpenLicence,
    OpenLicenceState,
)

# Territories and fields that cover every other one.
WORLDWIDE = frozenset({"全球", "全世界", "worldwide", "global"})
ALL_FIELDS = frozenset({"全部领域", "全部", "不限", "all fields", "all"})

# What each ownership model forbids the institution to grant alone: a 赋权 long-term use right
# leaves the researchers an exclusive right of use; under joint ownership an assignment or an
# exclusive licence needs every owner's consent, which the platform cannot show; once ownership
# is granted to the researchers (in part) the institution cannot assign the whole.
FORBIDDEN_BY_OWNERSHIP: dict[str, frozenset[Kind]] = {
    OwnershipModel.researchers_use_right: frozenset({Kind.assignment, Kind.exclusive, Kind.equity}),
    OwnershipModel.joint: frozenset({Kind.assignment, Kind.exclusive}),
    OwnershipModel.researchers_ownership: frozenset({Kind.assignment}),
}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def covers(one: str, other: str, everything: frozenset[str]) -> bool:
    """Two territories (or fields) overlap when they are the same or either covers all."""
    a, b = _norm(one), _norm(other)
    return a == b or a in everything or b in everything


def overlaps_in_time(one: Agreement, other: Agreement) -> bool:
    return one.starts_on < other.ends_on and other.starts_on < one.ends_on


def refused(message: str, **params) -> Conflict:
    return Conflict(N_("The agreement cannot be approved."), FieldError("action", message, params))


async def approval_refusal(session: AsyncSession, catalog: CatalogService, agreement: Agreement) -> Conflict | None:
    """Why the agreement may not be approved, or None."""
    result_ids = set(
        await session.scalars(select(AgreementResult.listing_id).where(AgreementResult.agreement_id == agreement.id))
    )
    listings = await catalog.listing_refs(result_ids)
    for listing in listings.values():
        if agreement.kind in FORBIDDEN_BY_OWNERSHIP.get(listing.ownership_model or "", frozenset()):
            return refused(
                N_("The ownership model of “%(title)s” does not let the institution grant this kind of agreement."),
                title=listing.title_zh,
            )
    # Patent Law art. 51: while an open licence is declared, no exclusive licence may be granted.
    if agreement.kind in EXCLUSIVE_KINDS and await session.scalar(
        select(OpenLicence.id)
        .where(OpenLicence.listing_id.in_(result_ids), OpenLicence.state == OpenLicenceState.active)
        .limit(1)
    ):
        return refused(N_("An open licence is declared on this result: withdraw it before granting an exclusive licence."))
    others = await session.scalars(
        select(Agreement)
        .join(AgreementResult, AgreementResult.agreement_id == Agreement.id)
        .where(
            AgreementResult.listing_id.in_(result_ids),
            Agreement.id != agreement.id,
            Agreement.state.in_([str(state) for state in LIVE_STATES]),
        )
        .distinct()
    )
    for other in others:
        same_field = covers(agreement.field_of_use, other.field_of_use, ALL_FIELDS)
        if other.kind in EXCLUSIVE_KINDS and other.company_id == agreement.company_id and same_field:
            return refused(N_("The licensee already holds an exclusive licence over this result and field."))
        if not (same_field and covers(agreement.territory, other.territory, WORLDWIDE) and overlaps_in_time(agreement, other)):
            continue
        if other.kind in EXCLUSIVE_KINDS:
            return refused(N_("Another exclusive licence covers this result in the same territory, field and time."))
        if agreement.kind in EXCLUSIVE_KINDS:
            return refused(N_("Other licences already cover this result in the same territory, field and time."))
    return None
