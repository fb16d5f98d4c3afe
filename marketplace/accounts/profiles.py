"""An organization's public profile: its description in both languages, its named contact and its
logo. Its administrator (the TTO manager, the company administrator) or the platform admin writes
it; everyone may read it. A mixin of AccountService, like Organizations.

The logo is checked by what it is, not by what it is called: its first bytes must be a PNG, JPEG or
WebP signature, and it must be small, since every profile and card may show it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, fields
from typing import IO

import filetype
from sqlalchemy import select

from marketplace.accounts.models import ADMIN_ROLES, Organization, OrganizationLogo, Role
from marketplace.accounts.organizations import Organizations
from marketplace.accounts.schemas import EMAIL_PATTERN
from marketplace.audit import services as audit
from marketplace.errors import FieldError, Forbidden, InvalidInput, NotFound
from marketplace.forms import control_character_errors
from marketplace.i18n import N_
from marketplace.tenancy import Principal

MAX_LOGO_BYTES = 512 * 1024
# What filetype names a logo's content → the type it is served as.
LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
MAX_DESCRIPTION = 4000
LIMITS = {"contact_name": 100, "contact_title": 100, "contact_email": 254, "contact_phone": 40}
PHONE = re.compile(r"^[0-9+()\- ]{5,40}$")


@dataclass
class ProfileInput:
    description_zh: str = ""
    description_en: str = ""
    contact_name: str = ""
    contact_title: str = ""
    contact_email: str = ""
    contact_phone: str = ""

    @classmethod
    def of(cls, data: dict) -> ProfileInput:
        """The profile's fields from a form or JSON body, trimmed (anything else is ignored)."""
        return cls(**{f.name: str(data.get(f.name) or "").strip() for f in fields(cls)})


@dataclass
class LogoUpload:
    name: str
    file: IO[bytes]


def validate_profile(data: ProfileInput) -> list[FieldError]:
    errors = control_character_errors(vars(data))
    bad = {e.field for e in errors}
    for name in ("description_zh", "description_en"):
        if name not in bad and len(getattr(data, name)) > MAX_DESCRIPTION:
            errors.append(FieldError(name, N_("At most %(max)d characters."), {"max": MAX_DESCRIPTION}))
    for name, limit in LIMITS.items():
        if name not in bad and len(getattr(data, name)) > limit:
            errors.append(FieldError(name, N_("At most %(max)d characters."), {"max": limit}))
    if data.contact_email and "contact_email" not in bad and not re.match(EMAIL_PATTERN, data.contact_email):
        errors.append(FieldError("contact_email", N_("Not a valid e-mail address.")))
    if data.contact_phone and "contact_phone" not in bad and not PHONE.match(data.contact_phone):
        errors.append(FieldError("contact_phone", N_("Digits, spaces, +, - and brackets only.")))
    if (data.contact_email or data.contact_phone) and not data.contact_name:
        errors.append(FieldError("contact_name", N_("Name the person who answers this address or number.")))
    return errors


def read_logo(upload: LogoUpload) -> tuple[str, bytes] | FieldError:
    """(content type, bytes) of an acceptable logo, or the field error saying why not."""
    data = upload.file.read(MAX_LOGO_BYTES + 1)
    if not data:
        return FieldError("logo", N_("The file is empty."))
    if len(data) > MAX_LOGO_BYTES:
        return FieldError("logo", N_("The logo may be at most %(kb)d KB."), {"kb": MAX_LOGO_BYTES // 1024})
    found = filetype.guess(data[:8192])
    if found is None or found.extension not in LOGO_TYPES:
        return FieldError("logo", N_("The logo must be a PNG, JPEG or WebP image."))
    return LOGO_TYPES[found.extension], data


class Profiles(Organizations):
    @staticmethod
    def may_edit_profile(principal: Principal, organization_id: uuid.UUID) -> bool:
        """The organization's administrator, or the platform admin."""
        return principal.role == Role.platform_admin or (
            principal.role in ADMIN_ROLES and principal.organization_id == organization_id
        )

    async def profile_to_edit(self, principal: Principal, organization_id: uuid.UUID) -> Organization:
        """Another organization's profile form is not found; one's own is the administrator's."""
        principal.require()
        org = await self.get_organization(principal, organization_id)
        if not self.may_edit_profile(principal, org.id):
            raise Forbidden()
        return org

    async def update_organization_profile(
        self,
        principal: Principal,
        organization_id: uuid.UUID,
        data: ProfileInput,
        *,
        logo: LogoUpload | None = None,
        remove_logo: bool = False,
        ip: str | None = None,
    ) -> Organization:
        """Every problem of the form at once (the logo's among them); audited with what changed."""
        org = await self.profile_to_edit(principal, organization_id)
        errors = validate_profile(data)
        image = read_logo(logo) if logo is not None else None
        if isinstance(image, FieldError):
            errors.append(image)
        if errors:
            raise InvalidInput(*errors)
        before = {f.name: getattr(org, f.name) for f in fields(ProfileInput)}
        after = vars(data)
        changed = sorted(name for name in after if after[name] != before[name])
        for name in changed:
            setattr(org, name, after[name])
        if isinstance(image, tuple):
            changed.append("logo")
            await self._store_logo(org, *image)
        elif remove_logo and org.logo_sha256:
            changed.append("logo")
            stored = await self.session.get(OrganizationLogo, org.id)
            if stored is not None:
                await self.session.delete(stored)
            org.logo_sha256 = None
        if changed:
            await audit.record(
                self.session,
                "organization_profile_changed",
                actor_user_id=principal.user_id,
                organization_id=org.id,
                subject=org,
                ip=ip,
                fields=changed,
            )
        return org

    async def _store_logo(self, org: Organization, content_type: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        stored = await self.session.get(OrganizationLogo, org.id)
        if stored is None:
            self.session.add(OrganizationLogo(organization_id=org.id, content_type=content_type, data=data, sha256=digest))
        else:
            stored.content_type, stored.data, stored.sha256 = content_type, data, digest
        org.logo_sha256 = digest

    async def logo(self, organization_id: uuid.UUID) -> OrganizationLogo:
        """Logos are public, like the profile they belong to."""
        stored = await self.session.scalar(select(OrganizationLogo).where(OrganizationLogo.organization_id == organization_id))
        if stored is None:
            raise NotFound()
        return stored
