"""Who sees, writes and acts on which listing: rules on the principal alone, so the catalogue's
service and the public read for search share them (a mixin of CatalogService)."""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, true

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, INSTITUTION_ROLES, TTO_ROLES, Role
from marketplace.catalog.lifecycle import LIFECYCLE
from marketplace.catalog.models import Inventor, Listing, ListingKind, Status
from marketplace.tenancy import Principal


class ListingVisibility:
    @classmethod
    def visible(cls, principal: Principal):
        """Published listings are public. The owning institution's TTO sees all of its listings;
        an inventor sees the drafts they wrote or are named on; platform roles see everything."""
        if principal.is_platform:
            return true()
        published = Listing.status == Status.published
        if principal.role in TTO_ROLES:
            return or_(published, Listing.institution_id == principal.organization_id)
        if principal.role == Role.inventor:
            return or_(published, cls._written_by(principal))
        return published

    @staticmethod
    def has_own_listings(principal: Principal) -> bool:
        """The institution's people: their own listings, in every status, are a view of theirs."""
        return principal.role in INSTITUTION_ROLES

    @staticmethod
    def has_own_results(principal: Principal) -> bool:
        """An inventor's "own" view: the listings they wrote or are named on."""
        return principal.role == Role.inventor

    @staticmethod
    def lists_any_status(principal: Principal) -> bool:
        """Platform roles filter the whole catalogue by status (listings waiting for review)."""
        return principal.is_platform

    @staticmethod
    def may_create(principal: Principal, kind: str | None = None) -> bool:
        """The institution's people write listings; an inventor only results."""
        if principal.role not in INSTITUTION_ROLES:
            return False
        return not (principal.role == Role.inventor and kind == ListingKind.resource)

    @staticmethod
    def require_tto(principal: Principal) -> Principal:
        """Review, import and export are the institution's technology-transfer office's work."""
        return principal.require(*TTO_ROLES)

    @staticmethod
    def may_request_match(principal: Principal, listing: Listing) -> bool:
        """Companies ask for matches on published listings (the matching service decides when asked)."""
        return principal.role in COMPANY_ROLES and listing.status == Status.published

    @staticmethod
    def default_contact(principal: Principal) -> dict[str, str]:
        """A TTO writing a listing is its contact unless they say otherwise."""
        return {"contact_name": principal.name, "contact_email": principal.email} if principal.role in TTO_ROLES else {}

    @classmethod
    def sees_inventor_shares(cls, principal: Principal, listing: Listing) -> bool:
        """Inventors' revenue shares are internal: the owning institution's TTO, the listing's author
        and the inventors named on it, and the platform admin see them; names stay public."""
        if principal.role == Role.platform_admin:
            return True
        if principal.role in TTO_ROLES:
            return listing.institution_id == principal.organization_id
        me = principal.user_id
        return me is not None and (listing.created_by_user_id == me or any(i.user_id == me for i in listing.inventors))

    @staticmethod
    def may_edit(principal: Principal, listing: Listing) -> bool:
        if principal.role == Role.platform_admin:
            return True
        if listing.institution_id != principal.organization_id:
            return False
        if principal.role in TTO_ROLES:
            return True
        return (
            principal.role == Role.inventor and listing.created_by_user_id == principal.user_id and listing.status == Status.draft
        )

    @staticmethod
    def allowed_actions(principal: Principal, listing: Listing) -> list[str]:
        """The lifecycle actions the caller may take on the listing now (the buttons a page shows)."""
        return states.actions(LIFECYCLE, principal, listing)

    @staticmethod
    def _written_by(principal: Principal):
        """An inventor's own listings: those they wrote or are named on."""
        named = exists().where(Inventor.listing_id == Listing.id, Inventor.user_id == principal.user_id)
        return and_(
            Listing.institution_id == principal.organization_id, or_(Listing.created_by_user_id == principal.user_id, named)
        )
