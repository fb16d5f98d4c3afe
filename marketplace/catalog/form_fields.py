"""What the listing form shows: the labels of its inputs, rows and choices, the inputs of each
resource type's details (derived from their msgspec structs), the select choices, and the list of
problems above the form. Apart from forms.py, which turns a submitted form into the service's input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from msgspec import inspect

from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    IpKind,
    IpStatus,
    Jurisdiction,
    LicenceOption,
    OwnershipModel,
    PricingModel,
    Stage,
)
from marketplace.catalog.schemas import RESOURCE_DETAILS
from marketplace.i18n import N_, gettext

FIELD_LABELS: dict[str, str] = {
    "kind": N_("Kind"),
    "type": N_("Type"),
    "title_zh": N_("Title (Chinese)"),
    "title_en": N_("Title (English)"),
    "summary_zh": N_("Summary (Chinese)"),
    "summary_en": N_("Summary (English)"),
    "confidential_details": N_("Confidential details"),
    "therapeutic_areas": N_("Therapeutic areas"),
    "keywords": N_("Keywords"),
    "contact": N_("Contact e-mail or phone"),
    "contact_name": N_("Contact person"),
    "contact_email": N_("Contact e-mail"),
    "contact_phone": N_("Contact phone"),
    "stage": N_("Development stage"),
    "trl": N_("Technology readiness level (TRL)"),
    "advantages": N_("Advantages"),
    "ownership_model": N_("Ownership model"),
    "licence_options": N_("Licence options"),
    "ip_assets": N_("IP assets"),
    "inventors": N_("Inventors"),
    "details": N_("Resource details"),
    "engagement_modes": N_("Engagement modes"),
    "pricing_model": N_("Pricing model"),
    "availability": N_("Availability"),
    "action": N_("Action"),
}


ROW_LABELS = {
    "name": N_("Name"),
    "share": N_("Share"),
    "user_id": N_("Platform account"),
    "number": N_("Number"),
    "kind": N_("Kind"),
    "jurisdiction": N_("Jurisdiction"),
    "status": N_("Status"),
    "filing_date": N_("Filing date"),
    "expiry_date": N_("Expiry date"),
}


DETAIL_LABELS = {
    "beds": N_("Research beds"),
    "specialties": N_("Specialties"),
    "phases": N_("Trial phases"),
    "gcp_specialties": N_("GCP-certified specialties"),
    "active_trials": N_("Active trials"),
    "pi_name": N_("Principal investigator"),
    "specialty": N_("Specialty"),
    "concurrent_trials": N_("Concurrent trials"),
    "completed_trials": N_("Completed trials"),
    "sample_types": N_("Sample types"),
    "sample_count": N_("Samples held"),
    "consent_scope": N_("Consent scope"),
    "disease": N_("Disease"),
    "size": N_("Participants"),
    "follow_up_years": N_("Follow-up (years)"),
    "data_types": N_("Data types"),
    "model": N_("Model"),
    "maker": N_("Manufacturer"),
    "booking_terms": N_("Booking terms"),
    "committee": N_("Ethics committee"),
    "mutual_recognition": N_("Recognises lead-site ethics approval"),
    "turnaround_days": N_("Review turnaround (days)"),
    "governance": N_("Data governance"),
}


CHOICE_LABELS = {
    "I": N_("Phase I"),
    "II": N_("Phase II"),
    "III": N_("Phase III"),
    "IV": N_("Phase IV"),
    "BE": N_("Bioequivalence (BE)"),
    "specific": N_("Specific consent"),
    "broad": N_("Broad consent"),
    "tiered": N_("Tiered consent"),
}


# Hints under the inputs whose format is not obvious.
DETAIL_HINTS = {"list": N_("Separate items with commas or semicolons.")}


@dataclass(frozen=True)
class DetailField:
    """One input of a resource type's details, derived from its msgspec struct."""

    name: str
    widget: str  # number, decimal, checkbox, text, textarea, list, choices, select
    required: bool
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def input(self) -> str:
        return f"details.{self.name}"

    @property
    def label(self) -> str:
        return DETAIL_LABELS.get(self.name, self.name)


def _ordered(values) -> tuple[str, ...]:
    """Literal choices in the order people expect (phase I before BE), not msgspec's."""
    order = list(CHOICE_LABELS)
    return tuple(sorted(values, key=lambda v: order.index(v) if v in order else len(order)))


@cache
def detail_fields(resource_type: str) -> tuple[DetailField, ...]:
    struct = RESOURCE_DETAILS.get(resource_type)
    if struct is None:
        return ()
    info = inspect.type_info(struct)
    assert isinstance(info, inspect.StructType)  # RESOURCE_DETAILS holds Struct classes
    fields = []
    for f in info.fields:
        t = f.type
        if isinstance(t, inspect.IntType):
            fields.append(DetailField(f.name, "number", f.required, minimum=t.ge, maximum=t.le))
        elif isinstance(t, inspect.FloatType):
            fields.append(DetailField(f.name, "decimal", f.required, minimum=t.ge, maximum=t.le))
        elif isinstance(t, inspect.BoolType):
            fields.append(DetailField(f.name, "checkbox", f.required))
        elif isinstance(t, inspect.LiteralType):
            fields.append(DetailField(f.name, "select", f.required, choices=_ordered(t.values)))
        elif isinstance(t, inspect.ListType) and isinstance(t.item_type, inspect.LiteralType):
            fields.append(DetailField(f.name, "choices", f.required, choices=_ordered(t.item_type.values)))
        elif isinstance(t, inspect.ListType):
            fields.append(DetailField(f.name, "list", f.required))
        else:
            long = isinstance(t, inspect.StrType) and (t.max_length or 0) > 200
            fields.append(DetailField(f.name, "textarea" if long else "text", f.required))
    return tuple(fields)


def choice_label(value: str) -> str:
    return CHOICE_LABELS.get(value, value)


def share_percent(share_bp: int) -> str:
    """6000 → "60", 3333 → "33.33"."""
    return f"{Decimal(share_bp) / 100:f}".rstrip("0").rstrip(".") if share_bp % 100 else str(share_bp // 100)


def error_label(name: str) -> str:
    """A readable name of an input, for the list of problems above the form."""
    match = re.fullmatch(r"(inventors|ip_assets)\[(\d+)\]\.(\w+)", name)
    if match:
        group, row, part = match.groups()
        return gettext(
            "%(group)s, row %(row)s: %(field)s",
            group=gettext(FIELD_LABELS[group]),
            row=int(row) + 1,
            field=gettext(ROW_LABELS.get(part, part)),
        )
    if name.startswith("licence_terms."):
        return f"{gettext(FIELD_LABELS['licence_options'])}: {gettext(name.split('.', 1)[1])}"
    if name.startswith("details."):
        part = name.split(".", 1)[1]
        return gettext(DETAIL_LABELS.get(part, part))
    return gettext(FIELD_LABELS.get(name, name)) if name != "__all__" else ""


def error_summary(errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """(input name, label, message) for each problem, in a stable order."""
    return [(name, error_label(name), message) for name, message in errors.items()]


SELECT_CHOICES = {
    "stage": tuple(Stage),
    "ownership_model": tuple(OwnershipModel),
    "pricing_model": tuple(PricingModel),
    "availability": tuple(Availability),
    "engagement_modes": tuple(EngagementMode),
    "licence_options": tuple(LicenceOption),
    "ip_kind": tuple(IpKind),
    "jurisdiction": tuple(Jurisdiction),
    "ip_status": tuple(IpStatus),
}
