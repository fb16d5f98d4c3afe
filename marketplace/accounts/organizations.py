"""Organizations: what one is made of (OrganizationInput), the checks that mirror the table's
constraints (the GB 32100-2015 credit code among them), and the service methods that create, list
and show organizations and set an institution's answer time.

A mixin of AccountService (`Organizations`), apart because the input rules are also used without a
service (the CLI, demo data and test factories check an organization before writing it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import MAX_RESPONSE_WORKING_DAYS, Organization, OrgKind, Role
from marketplace.audit import services as audit
from marketplace.db import add_unless_taken
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.tenancy import Principal, require_org_in_scope, scoped

# GB 32100-2015: the unified social credit code's alphabet (no I, O, S, V, Z) and check weights.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in code):
        return False
    return credit_code_check_character(code[:17]) == code[17]


MAX_HEALTH_TECHNICIANS = 1_000_000
# Why a company or platform has none of an institution's own figures.
NOT_AN_INSTITUTION = {
    "response_working_days": N_("Only institutions answer match requests."),
    "health_technicians": N_("Only institutions count health technicians."),
}


@dataclass
class OrganizationInput:
    kind: str
    name_zh: str
    city: str
    name_en: str | None = None
    district: str | None = None
    grade: str | None = None
    approved_beds: int | None = None
    research_beds: int | None = None
    health_technicians: int | None = None
    gcp_certified: bool = False
    ethics_alliance_member: bool = False
    pi_concurrent_trial_threshold: int | None = None
    credit_code: str | None = None
    segment: str | None = None


def validate_organization(data: OrganizationInput) -> None:
    """Field-level checks that mirror the table's CHECK constraints, so errors name the field."""
    errors: list[FieldError] = []
    required = {
        OrgKind.institution: ("grade", "approved_beds", "research_beds", "pi_concurrent_trial_threshold"),
        OrgKind.company: ("credit_code", "segment"),
        OrgKind.platform: (),
    }[OrgKind(data.kind)]
    for name in required:
        if getattr(data, name) in (None, ""):
            errors.append(FieldError(name, "Required for this kind of organization."))
    if not data.name_zh.strip():
        errors.append(FieldError("name_zh", "Required."))
    if data.kind == OrgKind.institution and data.approved_beds is not None and data.research_beds is not None:
        if data.approved_beds < 0:
            errors.append(FieldError("approved_beds", "Must not be negative."))
        if data.research_beds < 0:
            errors.append(FieldError("research_beds", "Must not be negative."))
        elif data.research_beds * 10 > data.approved_beds:
            errors.append(
                FieldError(
                    "research_beds",
                    "Research beds may be at most 10%% of approved beds (%(limit)d).",
                    {"limit": data.approved_beds // 10},
                )
            )
    if data.health_technicians is not None and not 0 <= data.health_technicians <= MAX_HEALTH_TECHNICIANS:
        errors.append(FieldError("health_technicians", "Between %(min)d and %(max)d.", {"min": 0, "max": MAX_HEALTH_TECHNICIANS}))
    if data.pi_concurrent_trial_threshold is not None and data.pi_concurrent_trial_threshold <= 0:
        errors.append(FieldError("pi_concurrent_trial_threshold", "Must be at least 1."))
    if data.credit_code and not is_valid_credit_code(data.credit_code):
        errors.append(FieldError("credit_code", "Not a valid unified social credit code (GB 32100-2015 check character)."))
    if errors:
        raise InvalidInput(*errors)


async def organization_count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Organization))).scalar_one()


class Organizations:
    session: AsyncSession

    async def create_organization(self, principal: Principal, data: OrganizationInput) -> Organization:
        principal.require(Role.platform_admin)
        validate_organization(data)
        taken = Conflict("Already registered.", FieldError("credit_code", "This credit code is already registered."))
        if data.credit_code and await self.session.scalar(
            select(Organization.id).where(Organization.credit_code == data.credit_code)
        ):
            raise taken
        org = Organization(**dict(vars(data).items()))
        # The same form sent twice at once passes the check above; the unique index lets one through.
        if not await add_unless_taken(self.session, org, "uq_organizations_credit_code"):
            raise taken
        await audit.record(
            self.session, "organization_created", actor_user_id=principal.user_id, organization_id=org.id, subject=org
        )
        return org

    async def list_organizations(self, principal: Principal, *, kind: str | None = None) -> list[Organization]:
        stmt = scoped(select(Organization), Organization.id, principal).order_by(Organization.kind, Organization.name_zh)
        if kind:
            stmt = stmt.where(Organization.kind == kind)
        return list((await self.session.scalars(stmt)).all())

    async def get_organization(self, principal: Principal, organization_id: uuid.UUID) -> Organization:
        require_org_in_scope(principal, organization_id)
        org = await self.session.get(Organization, organization_id)
        if org is None:
            raise NotFound()
        return org

    async def organization_counts(self) -> dict[str, int]:
        return await organization_counts(self.session)

    async def public_organizations(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organization]:
        """Names, city and kind of organizations are public (profile pages, listing owners)."""
        if not ids:
            return {}
        rows = await self.session.scalars(select(Organization).where(Organization.id.in_(ids)))
        return {org.id: org for org in rows}

    async def directory(self, kind: str) -> list[Organization]:
        """Every organization of a kind, by name (names are public): to choose one in a form."""
        stmt = select(Organization).where(Organization.kind == kind).order_by(Organization.name_zh)
        return list((await self.session.scalars(stmt)).all())

    async def public_organization(self, organization_id: uuid.UUID, kind: str | None = None) -> Organization:
        org = (await self.public_organizations({organization_id})).get(organization_id)
        if org is None or (kind and org.kind != kind):
            raise NotFound()
        return org

    @staticmethod
    def may_set_response_working_days(principal: Principal, organization_id: uuid.UUID) -> bool:
        """The institution's TTO manager, or the platform admin."""
        return principal.role == Role.platform_admin or (
            principal.role == Role.tto_manager and organization_id == principal.organization_id
        )

    async def update_institution(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        *,
        response_working_days: int | None = None,
        health_technicians: int | None = None,
        ip: str | None = None,
    ) -> Organization:
        """The figures an institution keeps about itself; at least one must be given."""
        if response_working_days is None and health_technicians is None:
            raise invalid("response_working_days", "Give response_working_days or health_technicians.")
        if response_working_days is not None:
            await self.set_response_working_days(principal, organization_id, response_working_days, ip=ip)
        if health_technicians is not None:
            await self.set_health_technicians(principal, organization_id, health_technicians, ip=ip)
        return await self.get_organization(principal, organization_id)

    async def set_health_technicians(
        self, principal: Principal, organization_id: uuid.UUID, count: int, *, ip: str | None = None
    ) -> Organization:
        """卫生技术人员: the dashboards divide transfer income by it (per 100 health technicians)."""
        org = await self._institution_to_change(principal, organization_id, "health_technicians")
        if not 0 <= count <= MAX_HEALTH_TECHNICIANS:
            raise invalid("health_technicians", "Between %(min)d and %(max)d.", min=0, max=MAX_HEALTH_TECHNICIANS)
        return await self._change(principal, org, "health_technicians", count, "health_technicians_changed", ip)

    async def set_response_working_days(
        self, principal: Principal, organization_id: uuid.UUID, days: int, *, ip: str | None = None
    ) -> Organization:
        """How many working days the institution gives itself to answer a match request: its TTO
        manager's (or the platform admin's) call. Applies to requests submitted from now on."""
        org = await self._institution_to_change(principal, organization_id, "response_working_days")
        if not 1 <= days <= MAX_RESPONSE_WORKING_DAYS:
            raise invalid(
                "response_working_days", "Between %(min)d and %(max)d working days.", min=1, max=MAX_RESPONSE_WORKING_DAYS
            )
        return await self._change(principal, org, "response_working_days", days, "response_days_changed", ip)

    async def _institution_to_change(self, principal: Principal, organization_id: uuid.UUID, field: str) -> Organization:
        """An institution whose own figures the caller may change (its TTO manager, the platform admin)."""
        org = await self.get_organization(principal, organization_id)
        if not self.may_set_response_working_days(principal, org.id):
            raise Forbidden()
        if org.kind != OrgKind.institution:
            raise invalid(field, NOT_AN_INSTITUTION[field])
        return org

    async def _change(
        self, principal: Principal, org: Organization, field: str, value: int, action: str, ip: str | None
    ) -> Organization:
        """Set one figure, audited with before and after when it changes."""
        before = getattr(org, field)
        if value != before:
            setattr(org, field, value)
            await audit.record(
                self.session,
                action,
                actor_user_id=principal.user_id,
                organization_id=org.id,
                subject=org,
                ip=ip,
                before=before,
                after=value,
            )
        return org


async def organization_counts(session: AsyncSession) -> dict[str, int]:
    """How many organizations of each kind (public: the landing page's figures)."""
    rows = await session.execute(select(Organization.kind, func.count()).group_by(Organization.kind))
    return {row[0]: row[1] for row in rows.all()}
