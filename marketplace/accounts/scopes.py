"""The scopes an integration client may hold: the one list, used by the database CHECK, the
registration forms, the token endpoint, the scope check of /api/v1 and the OpenAPI document.

An /api/v1 operation names the scope it needs in its handler's `opt` (`opt=needs(Scope.listings_write)`);
an operation that names none is for people only, and refuses a client's token (403).
"""

from __future__ import annotations

import enum

from marketplace.i18n import N_


class Scope(enum.StrEnum):
    listings_read = "listings:read"
    listings_write = "listings:write"
    requests_read = "requests:read"
    payments_read = "payments:read"
    payments_write = "payments:write"


# What each scope allows, in the OpenAPI document and (translated) on the registration page.
SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.listings_read: N_("Read the organization's listings, drafts included, and search the catalogue."),
    Scope.listings_write: N_("Create and edit the organization's listings, import them and publish them."),
    Scope.requests_read: N_("Read the match requests the organization sent or received, and their messages."),
    Scope.payments_read: N_("Read the organization's licence agreements, their payments and royalty reports."),
    Scope.payments_write: N_("Record payments and royalty reports on agreements, bed allocations and trials."),
}
# The key of a handler's `opt` that holds its scope.
SCOPE_OPT = "scope"


def needs(scope: Scope) -> dict[str, str]:
    """A handler's `opt` naming the scope a client's token must hold to call it."""
    return {SCOPE_OPT: scope.value}
