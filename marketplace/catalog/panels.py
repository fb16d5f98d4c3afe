"""Parts of a listing's page that later domains give, registered in wiring.py: the catalogue does
not import matching, yet a company sees its own request on the listing and the owning TTO sees who
has asked. Each panel's `load` answers the template's context for this viewer, or None (nothing
to show); the page includes the panel's template in its slot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.catalog.models import Listing
from marketplace.tenancy import Principal


@dataclass(frozen=True)
class ListingPanel:
    name: str
    # "request": in place of the page's "request a match"; "owner": for the owning institution.
    slot: str
    template: str
    load: Callable[[AsyncSession, Principal, Listing], Awaitable[dict | None]]


_PANELS: dict[str, ListingPanel] = {}


def register_listing_panel(panel: ListingPanel) -> None:
    _PANELS[panel.name] = panel


async def listing_panels(session: AsyncSession, principal: Principal, listing: Listing) -> dict[str, list[tuple[str, dict]]]:
    """Each slot's (template, context) pairs for this viewer, in the order they were registered."""
    slots: dict[str, list[tuple[str, dict]]] = {}
    for panel in _PANELS.values():
        context = await panel.load(session, principal, listing)
        if context is not None:
            slots.setdefault(panel.slot, []).append((panel.template, context))
    return slots
