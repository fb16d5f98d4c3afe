"""What matching adds to a listing's page (catalog/panels.py, registered in wiring.py): a company's
own request on the listing — its state, the next step in words, the way to it — in place of a new
"request a match"; and for the owning TTO, the requests received on it, by company and state."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES
from marketplace.catalog.models import Listing
from marketplace.catalog.panels import ListingPanel
from marketplace.i18n import N_
from marketplace.matching.requests.lifecycle import STATE_LABELS
from marketplace.matching.requests.models import OPEN_STATES, EngagementType, State
from marketplace.matching.requests.services import ENGAGEMENT_LABELS, MatchingService
from marketplace.tenancy import Principal

# What happens next, said to the company, by state.
NEXT_STEPS = {
    State.submitted: N_("The institution's tech-transfer office answers by %(due)s."),
    State.under_review: N_("The institution is reviewing your request: it will accept it, decline it or ask you a question."),
    State.info_requested: N_("The institution has asked your company for more information: answer it on the request's page."),
    State.accepted: N_(
        "Accepted: the confidential details are shown on this page. Next, start negotiating on the request's page."
    ),
    State.negotiating: N_("Negotiating: settle the terms in the conversation; the deal is made once both sides confirm it."),
    State.agreed: N_("Both sides have confirmed the deal."),
    State.declined: N_("The institution declined this request. Your company may send a new one."),
    State.withdrawn: N_("Your company withdrew this request and may send a new one."),
    State.closed_no_deal: N_("Closed without a deal. Your company may send a new request."),
}
# While the company waits for an answer: what the page says instead of the confidential details.
WAITING_NOTE = N_("The confidential details are shown here once the institution accepts your company's request.")
AGAIN_NOTE = N_("Send a new request and accept the confidentiality agreement to read the confidential details.")
# The owner's list stops here; the requests page has them all.
ASKED_LIMIT = 10


async def own_request(session: AsyncSession, principal: Principal, listing: Listing) -> dict | None:
    """The company's latest request on the listing, for its people."""
    if principal.role not in COMPANY_ROLES:
        return None
    items, _ = await MatchingService(session).list(principal, listing_id=listing.id, page_size=1)
    if not items:
        return None
    match = items[0]
    closed = match.state not in OPEN_STATES and match.state != State.agreed
    confirmed = match.state == State.negotiating and match.company_agreed_at is not None
    return {
        "match": match,
        "state_label": STATE_LABELS[match.state],
        "next_step": N_("Your company has confirmed the deal; the institution has not yet.")
        if confirmed
        else NEXT_STEPS[State(match.state)],
        "due": match.response_due_on.isoformat() if match.response_due_on else "",
        "engagement": ENGAGEMENT_LABELS[EngagementType(match.engagement_type)],
        "ask_again": closed and listing.status == "published",
        "access_note": AGAIN_NOTE if closed else WAITING_NOTE,
    }


async def requests_received(session: AsyncSession, principal: Principal, listing: Listing) -> dict | None:
    """The requests on the listing, newest first, for its institution's tech-transfer office."""
    if principal.role not in TTO_ROLES or listing.institution_id != principal.organization_id:
        return None
    matching = MatchingService(session)
    items, total = await matching.list(principal, listing_id=listing.id, page_size=ASKED_LIMIT)
    companies = await matching.accounts.public_organizations({item.company_id for item in items})
    return {
        "requests": items,
        "total": total,
        "companies": companies,
        "state_labels": STATE_LABELS,
        "listing_id": listing.id,
    }


PANELS = (
    ListingPanel("own_match_request", "request", "matching/_listing_own_request.html", own_request),
    ListingPanel("match_requests_received", "owner", "matching/_listing_requests.html", requests_received),
)
