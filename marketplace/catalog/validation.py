"""A listing's field rules, apart from the service that writes listings: the formats of patent and
software-copyright numbers, which fields fit which kind, inventors' shares, and what a listing needs
before it may be published (the lifecycle's publish guard reads that too, without the service)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms
from marketplace.catalog.models import IpKind, Jurisdiction, Listing, ListingKind, ResourceType, ResultType, TherapeuticArea
from marketplace.catalog.schemas import RESOURCE_DETAILS, ListingFields
from marketplace.errors import DomainError, FieldError, InvalidInput
from marketplace.i18n import N_

TOTAL_SHARES_BP = 10_000

# Patent and software-copyright numbers by jurisdiction (checked by format, not by registry).
NUMBER_FORMATS: dict[str, re.Pattern] = {
    Jurisdiction.CN: re.compile(r"^(?:(?:ZL|CN)\s?)?\d{4}[1-9]\d{7}\.[\dX]$|^CN\s?\d{9}\s?[ABCUYS]\d?$"),
    Jurisdiction.PCT: re.compile(r"^PCT/[A-Z]{2}\d{4}/\d{6}$"),
    Jurisdiction.US: re.compile(r"^US\s?(?:\d{1,2},?\d{3},?\d{3}\s?B[12]|\d{4}/?\d{7}\s?A[19])$|^\d{2}/\d{3},?\d{3}$"),
    Jurisdiction.EP: re.compile(r"^EP\s?(?:\d{7}\s?[AB]\d|\d{8}\.\d)$"),
}
SOFTWARE_COPYRIGHT = re.compile(r"^\d{4}SR\d{7}$")

RESULT_ONLY = ("stage", "trl", "advantages", "ownership_model", "licence_options", "ip_assets", "inventors")
RESOURCE_ONLY = ("details", "engagement_modes", "pricing_model", "availability")


def valid_ip_number(number: str, kind: str, jurisdiction: str) -> bool:
    number = number.strip().upper()
    if kind == IpKind.software_copyright:
        return bool(SOFTWARE_COPYRIGHT.match(number))
    pattern = NUMBER_FORMATS.get(jurisdiction)
    return bool(pattern.match(number)) if pattern else bool(number)


def missing_to_publish(listing: Listing) -> list[FieldError]:
    """What a listing lacks before it may be published — companies reject vague listings."""
    required: list[tuple[str, object]] = [
        ("title_zh", listing.title_zh),
        ("summary_zh", listing.summary_zh),
        ("therapeutic_areas", listing.areas),
        ("contact", listing.contact_email or listing.contact_phone),
    ]
    if listing.kind == ListingKind.result:
        required += [
            ("advantages", (listing.advantages or "").strip()),
            ("stage", listing.stage),
            ("trl", listing.trl),
            ("ownership_model", listing.ownership_model),
            ("licence_options", listing.licence_options),
            ("inventors", listing.inventors),
        ]
    else:
        required += [
            ("details", listing.details),
            ("engagement_modes", listing.engagement_modes),
            ("pricing_model", listing.pricing_model),
            ("availability", listing.availability),
        ]
    return [FieldError(name, N_("Required to publish.")) for name, value in required if not value]


def check_complete(listing: Listing) -> None:
    """Refuse (422, naming each missing field) a listing not complete enough to publish."""
    missing = missing_to_publish(listing)
    if missing:
        raise DomainError(N_("The listing is not complete enough to publish."), *missing, status_code=422)


class ListingValidation:
    """The field rules a listing's input must pass, all reported at once (CatalogService's part)."""

    session: AsyncSession
    _area_codes: set[str] | None

    async def _validate(
        self, data: ListingFields, *, kind: str, type: str, institution_id: uuid.UUID, creating: bool = False
    ) -> None:
        errors: list[FieldError] = []
        types = ResultType if kind == ListingKind.result else ResourceType
        if type not in set(types):
            errors.append(FieldError("type", N_("Not one of the allowed values.")))
        if creating:
            for name in ("title_zh", "summary_zh"):
                if not getattr(data, name):
                    errors.append(FieldError(name, N_("Required.")))
        misplaced = RESOURCE_ONLY if kind == ListingKind.result else RESULT_ONLY
        for name in misplaced:
            if getattr(data, name) not in (None, [], {}):
                errors.append(
                    FieldError(name, N_("Not used for results.") if kind == ListingKind.result else N_("Not used for resources."))
                )
        if data.therapeutic_areas:
            if self._area_codes is None:
                self._area_codes = set((await self.session.scalars(select(TherapeuticArea.code))).all())
            for i, code in enumerate(data.therapeutic_areas):
                if code not in self._area_codes:
                    errors.append(FieldError(f"therapeutic_areas[{i}]", N_("Unknown therapeutic area.")))
        for i, asset in enumerate(data.ip_assets or []):
            if not valid_ip_number(asset.number, asset.kind, asset.jurisdiction):
                errors.append(
                    FieldError(
                        f"ip_assets[{i}].number", N_("Not a valid %(jurisdiction)s number."), {"jurisdiction": asset.jurisdiction}
                    )
                )
            if asset.filing_date and asset.expiry_date and asset.expiry_date <= asset.filing_date:
                errors.append(FieldError(f"ip_assets[{i}].expiry_date", N_("Must be after the filing date.")))
        if data.inventors:
            total = sum(inv.share_bp for inv in data.inventors)
            if total != TOTAL_SHARES_BP:
                errors.append(
                    FieldError(
                        "inventors", N_("Inventor shares must sum to 10,000 basis points (now %(total)d)."), {"total": total}
                    )
                )
            members = {inv.user_id for inv in data.inventors if inv.user_id}
            if members:
                from marketplace.accounts.services import AccountService

                known_members = await AccountService(self.session).member_ids(institution_id, members)
                for i, inv in enumerate(data.inventors):
                    if inv.user_id and inv.user_id not in known_members:
                        errors.append(FieldError(f"inventors[{i}].user_id", N_("Not a member of this institution.")))
        if data.licence_options:
            options = [offer.option for offer in data.licence_options]
            if len(set(options)) != len(options):
                errors.append(FieldError("licence_options", N_("Each licence option may appear once.")))
        if data.details is not None and kind == ListingKind.resource and type in RESOURCE_DETAILS:
            errors += forms.field_errors(data.details, RESOURCE_DETAILS[type], prefix="details")
        if errors:
            raise InvalidInput(*errors)
