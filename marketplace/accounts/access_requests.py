"""Requests for access: an organization applies from the public form, the platform admin approves
(the organization is created and its contact invited as its administrator, through the invitation
service) or declines with a reason (the applicant is e-mailed). The application's lifecycle is a
machine of marketplace/states.py: pending → approved | declined, each step audited.

A mixin of AccountService (`AccessRequests`, on top of `Members`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import i18n, states
from marketplace.accounts.members import Members, normalize_email, send_invitation
from marketplace.accounts.models import APPLYING_KINDS, AccessRequest, AccessStatus, Organization, OrgKind, Role
from marketplace.accounts.organizations import OrganizationInput, is_valid_credit_code, validate_organization
from marketplace.accounts.schemas import EMAIL_PATTERN
from marketplace.audit import services as audit
from marketplace.config import Settings
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.notifications.services import NotificationService
from marketplace.tenancy import Principal

ACCESS_EMAIL_KIND = "access_request"
PHONE_PATTERN = r"\+?[0-9][0-9 ()-]{5,38}"
# The organization's administrator the contact becomes on approval.
ADMIN_ROLE = {OrgKind.institution: Role.tto_manager, OrgKind.company: Role.company_admin}
TAKEN = {
    "uq_access_requests_pending_email": ("email", N_("An application from this address is already waiting for a decision.")),
    "uq_access_requests_pending_credit_code": (
        "credit_code",
        N_("An application with this credit code is already waiting for a decision."),
    ),
}
LIMITS = {"name_zh": 200, "name_en": 200, "city": 40, "contact_name": 100, "email": 254, "phone": 40, "message": 2000}

PLATFORM = (states.Party("platform", frozenset({Role.platform_admin})),)
LIFECYCLE = states.Machine(
    name="access_request",
    table="access_requests",
    column="status",
    states=tuple(AccessStatus),
    initial=frozenset({AccessStatus.pending}),
    actions={
        "approve": states.Action("approve", frozenset({AccessStatus.pending}), AccessStatus.approved, PLATFORM),
        "decline": states.Action(
            "decline", frozenset({AccessStatus.pending}), AccessStatus.declined, PLATFORM, reason_required=True
        ),
    },
    sides=lambda principal, record, context: ["platform"] if principal.role == Role.platform_admin else [],
    refusal=N_("This application is already %(state)s: it cannot be %(action)s."),
    refusal_field=N_("This application has already been decided."),
    state_labels={s: s for s in AccessStatus},
    action_labels={"approve": N_("approved"), "decline": N_("declined")},
)


@dataclass
class Application:
    """What the public form sends (strings as typed)."""

    kind: str = ""
    name_zh: str = ""
    name_en: str = ""
    credit_code: str = ""
    city: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    message: str = ""


def check_application(data: Application) -> AccessRequest:
    """Every problem of the form at once, as field errors; the row to insert."""
    errors: list[FieldError] = []
    values = {name: str(getattr(data, name) or "").strip() for name in vars(data)}
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors.append(FieldError(name, N_("At most %(n)s characters."), {"n": limit}))
    for name in ("name_zh", "city", "contact_name", "email", "phone"):
        if not values[name]:
            errors.append(FieldError(name, "Required."))
    kind = values["kind"]
    if kind not in {str(k) for k in APPLYING_KINDS}:
        errors.append(FieldError("kind", "Not one of the allowed values."))
    email = normalize_email(values["email"])
    if email and not re.fullmatch(EMAIL_PATTERN, email):
        errors.append(FieldError("email", "Enter a valid e-mail address."))
    if values["phone"] and not re.fullmatch(PHONE_PATTERN, values["phone"]):
        errors.append(FieldError("phone", N_("Enter a telephone number (digits, spaces, +, - and brackets).")))
    code = values["credit_code"].upper().replace(" ", "")
    if kind == OrgKind.company and not code:
        errors.append(FieldError("credit_code", N_("A company gives its unified social credit code.")))
    elif code and not is_valid_credit_code(code):
        errors.append(FieldError("credit_code", "Not a valid unified social credit code (GB 32100-2015 check character)."))
    if errors:
        raise InvalidInput(*errors)
    return AccessRequest(
        kind=kind,
        name_zh=values["name_zh"],
        name_en=values["name_en"] or None,
        credit_code=code or None,
        city=values["city"],
        contact_name=values["contact_name"],
        email=email,
        phone=values["phone"],
        message=values["message"],
        locale=i18n.current_locale.get(),
    )


class AccessRequests(Members):
    async def apply_for_access(self, data: Application, *, ip: str | None = None) -> AccessRequest:
        """A visitor's application. A second pending one from the same address or credit code (a
        double submit, even two at once: the partial unique indexes decide) is a field error, and so
        is the credit code of an organization already here."""
        row = check_application(data)
        if row.credit_code and await self.session.scalar(
            select(Organization.id).where(Organization.credit_code == row.credit_code)
        ):
            raise Conflict("Already registered.", FieldError("credit_code", "This credit code is already registered."))
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as error:
            for constraint, (name, message) in TAKEN.items():
                if constraint in str(error.orig):
                    raise Conflict("Already registered.", FieldError(name, message)) from None
            raise
        await audit.record(self.session, "access_request_submitted", subject=row, ip=ip, email=row.email, kind=row.kind)
        return row

    async def access_requests(self, principal: Principal, *, pending: bool) -> list[AccessRequest]:
        """Pending applications, oldest first; or the latest decisions, newest first."""
        principal.require(Role.platform_admin)
        if pending:
            stmt = select(AccessRequest).where(AccessRequest.status == AccessStatus.pending).order_by(AccessRequest.created_at)
        else:
            stmt = (
                select(AccessRequest)
                .where(AccessRequest.status != AccessStatus.pending)
                .order_by(AccessRequest.decided_at.desc())
                .limit(50)
            )
        return list((await self.session.scalars(stmt.limit(200))).all())

    async def _access_request(self, principal: Principal, request_id: uuid.UUID) -> AccessRequest:
        principal.require(Role.platform_admin)
        row = await self.session.scalar(select(AccessRequest).where(AccessRequest.id == request_id).with_for_update())
        if row is None:
            raise NotFound()
        return row

    async def approve_access(
        self,
        principal: Principal,
        request_id: uuid.UUID,
        details: OrganizationInput,
        settings: Settings,
        *,
        ip: str | None = None,
    ) -> AccessRequest:
        """Create the organization from the application and the admin's `details` (city, grade
        and beds of a hospital, a company's segment), invite the contact as its administrator;
        committed, then the invitation leaves."""
        row = await self._access_request(principal, request_id)
        if row.status != AccessStatus.pending:
            raise LIFECYCLE.illegal("approve", LIFECYCLE.state_label(row.status))
        # The application's own facts win over whatever the admin's form carried.
        details.kind, details.name_zh, details.name_en = row.kind, row.name_zh, row.name_en
        details.credit_code = row.credit_code if row.kind == OrgKind.company else None
        details.city = details.city or row.city
        validate_organization(details)
        org = await self.create_organization(principal, details)
        step = await states.apply(
            self.session, LIFECYCLE, principal, row, "approve", ip=ip, details={"organization": str(org.id)}
        )
        row.organization_id, row.decided_by_user_id, row.decided_at = org.id, principal.user_id, step.now
        _, user, raw = await self.invite(
            principal,
            org.id,
            email=row.email,
            name=row.contact_name,
            role=ADMIN_ROLE[OrgKind(row.kind)],
            ttl=timedelta(hours=settings.invitation_ttl_hours),
            ip=ip,
        )
        await self.session.commit()
        await send_invitation(settings, user.email, org.name_zh, raw)
        return row

    async def decline_access(
        self, principal: Principal, request_id: uuid.UUID, reason: str, *, ip: str | None = None
    ) -> AccessRequest:
        """Decline with a reason; the applicant's e-mail is queued in the same transaction."""
        row = await self._access_request(principal, request_id)
        step = await states.apply(self.session, LIFECYCLE, principal, row, "decline", reason[:1000], ip=ip)
        row.decline_reason, row.decided_by_user_id, row.decided_at = step.reason, principal.user_id, step.now
        token = i18n.current_locale.set(row.locale if row.locale in i18n.LOCALES else i18n.DEFAULT_LOCALE)
        try:
            subject = i18n.gettext("Your application to the medical tech-transfer marketplace")
            body = i18n.gettext(
                "Dear %(name)s,\n\nthank you for applying for %(org)s. We cannot open an account for it now:\n\n"
                "%(reason)s\n\nYou are welcome to apply again once this is settled.\n",
                name=row.contact_name,
                org=row.name_zh,
                reason=step.reason,
            )
        finally:
            i18n.current_locale.reset(token)
        await NotificationService(self.session).queue_email(row.email, ACCESS_EMAIL_KIND, subject, body)
        return row
