"""The NDA and who reads a listing's confidential details, apart from the rest of the catalogue's
rules: the owning institution's TTO and the platform admin always, an inventor of that institution
only on results they wrote or are named on, a company only under a grant for the current NDA
version, which the matching domain gives and takes back as its requests move (CatalogService's part)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, INSTITUTION_ROLES, TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.models import ConfidentialGrant, Inventor, Listing, NdaVersion
from marketplace.db import utcnow
from marketplace.errors import FieldError, InvalidInput
from marketplace.i18n import N_
from marketplace.tenancy import Principal


class ConfidentialAccess:
    session: AsyncSession

    @staticmethod
    def is_owner_side(principal: Principal, listing: Listing) -> bool:
        """The owning institution's people and the platform admin (its history, for one); who reads
        the confidential details is narrower, see `confidential_listing_ids`."""
        if principal.role == Role.platform_admin:
            return True
        return principal.role in INSTITUTION_ROLES and listing.institution_id == principal.organization_id

    @staticmethod
    def _sees_all_confidential(principal: Principal, listing: Listing) -> bool:
        """The owning institution's TTO and the platform admin read every listing's secrets."""
        if principal.role == Role.platform_admin:
            return True
        return principal.role in TTO_ROLES and listing.institution_id == principal.organization_id

    async def sees_confidential(self, principal: Principal, listing: Listing) -> bool:
        return listing.id in await self.confidential_listing_ids(principal, [listing])

    async def confidential_listing_ids(self, principal: Principal, listings: list[Listing]) -> set[uuid.UUID]:
        """Which of `listings` the caller may read the confidential details of: the owning
        institution's TTO (and the platform admin); an inventor of it only those they wrote or are
        named on (issue 10: their colleagues' secrets are not theirs); and a company holding a grant
        under the current NDA."""
        allowed = {item.id for item in listings if self._sees_all_confidential(principal, item)}
        others = [item.id for item in listings if item.id not in allowed]
        if others and principal.role == Role.inventor and principal.user_id is not None:
            me = principal.user_id
            own = [item for item in listings if item.id in others and item.institution_id == principal.organization_id]
            allowed |= {item.id for item in own if item.created_by_user_id == me}
            # Asked of the table, not of `listing.inventors`, which callers need not have loaded.
            named = [item.id for item in own if item.id not in allowed]
            if named:
                allowed |= set(
                    await self.session.scalars(
                        select(Inventor.listing_id).where(Inventor.listing_id.in_(named), Inventor.user_id == me)
                    )
                )
        if others and principal.role in COMPANY_ROLES:
            granted = await self.session.scalars(
                select(ConfidentialGrant.listing_id).where(
                    ConfidentialGrant.listing_id.in_(others),
                    ConfidentialGrant.company_id == principal.organization_id,
                    ConfidentialGrant.nda_version == self._current_nda_version(),
                )
            )
            allowed |= set(granted)
        return allowed

    async def outdated_grant(self, principal: Principal, listing: Listing) -> bool:
        """The caller's company was granted access under an NDA version that is no longer current."""
        if principal.role not in COMPANY_ROLES:
            return False
        version = await self.session.scalar(
            select(ConfidentialGrant.nda_version).where(
                ConfidentialGrant.listing_id == listing.id, ConfidentialGrant.company_id == principal.organization_id
            )
        )
        return version is not None and version < await self.current_nda_version()

    @staticmethod
    def _current_nda_version():
        return select(func.max(NdaVersion.version)).scalar_subquery()

    async def current_nda(self) -> NdaVersion:
        """The NDA text companies accept now: the latest version (the migration seeds version 1)."""
        return (await self.session.scalars(select(NdaVersion).order_by(NdaVersion.version.desc()).limit(1))).one()

    async def current_nda_version(self) -> int:
        return (await self.session.execute(select(self._current_nda_version()))).scalar_one()

    async def nda_version(self, version: int) -> NdaVersion | None:
        return await self.session.get(NdaVersion, version)

    async def publish_nda(self, principal: Principal, text_zh: str, text_en: str) -> NdaVersion:
        """A new NDA version (platform admin). From now on every company must accept it before it
        sees confidential details again, since grants under older versions stop counting."""
        principal.require(Role.platform_admin)
        errors = [
            FieldError(name, N_("Required.")) for name, value in (("text_zh", text_zh), ("text_en", text_en)) if not value.strip()
        ]
        if errors:
            raise InvalidInput(*errors)
        # Serialize publishers so two cannot take the same number.
        await self.session.execute(select(NdaVersion.version).order_by(NdaVersion.version).limit(1).with_for_update())
        nda = NdaVersion(version=await self.current_nda_version() + 1, text_zh=text_zh.strip(), text_en=text_en.strip())
        self.session.add(nda)
        await self.session.flush()
        await audit.record(
            self.session,
            "nda_published",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject_type="nda_versions",
            subject_id=str(nda.version),
            version=nda.version,
        )
        await self.session.refresh(nda)
        return nda

    async def grant_confidential_access(
        self,
        listing_id: uuid.UUID,
        company_id: uuid.UUID,
        nda_version: int,
        *,
        actor_user_id: uuid.UUID | None = None,
        now: datetime | None = None,
    ) -> None:
        """Let a company read the listing's confidential details under `nda_version`. Called by the
        matching domain once a request is accepted (or its NDA accepted again); idempotent."""
        grant = await self.session.get(ConfidentialGrant, (listing_id, company_id), with_for_update=True)
        if grant is not None and grant.nda_version == nda_version:
            return
        if grant is None:
            grant = ConfidentialGrant(listing_id=listing_id, company_id=company_id)
            self.session.add(grant)
        grant.nda_version = nda_version
        grant.granted_at = now or utcnow()
        institution_id = await self.session.scalar(select(Listing.institution_id).where(Listing.id == listing_id))
        await self.session.flush()
        await audit.record(
            self.session,
            "confidential_access_granted",
            actor_user_id=actor_user_id,
            organization_id=institution_id,
            subject_type="listings",
            subject_id=listing_id,
            company_id=company_id,
            nda_version=nda_version,
        )

    async def revoke_confidential_access(
        self, listing_id: uuid.UUID, company_id: uuid.UUID, *, actor_user_id: uuid.UUID | None = None
    ) -> None:
        grant = await self.session.get(ConfidentialGrant, (listing_id, company_id), with_for_update=True)
        if grant is None:
            return
        institution_id = await self.session.scalar(select(Listing.institution_id).where(Listing.id == listing_id))
        await self.session.delete(grant)
        await self.session.flush()
        await audit.record(
            self.session,
            "confidential_access_revoked",
            actor_user_id=actor_user_id,
            organization_id=institution_id,
            subject_type="listings",
            subject_id=listing_id,
            company_id=company_id,
        )
