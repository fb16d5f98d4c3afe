"""Saved searches: a company member keeps a /search query under a name, sees what it found and
may have its new finds e-mailed (saved_search_alerts finds and sends them)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES
from marketplace.audit import services as audit
from marketplace.catalog.services import CatalogService
from marketplace.db import add_unless_taken
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound
from marketplace.i18n import N_
from marketplace.search.models import SavedSearch, SavedSearchMatch
from marketplace.search.query import DEFAULT_PAGE_SIZE, SearchQuery, parse_search
from marketplace.tenancy import Principal

MAX_NAME_LENGTH = 80
MAX_SAVED_QUERY_LENGTH = 2000
MAX_SAVED_SEARCHES = 50


def search_url(saved_query: str) -> str:
    return "/search" + (f"?{saved_query}" if saved_query else "")


def canonical_query(raw: str, areas: Iterable[str]) -> tuple[str, SearchQuery, list[FieldError]]:
    """A /search URL query (or the whole address) in its canonical form, without page and page
    size; with its problems as field errors named `query.<parameter>`."""
    raw = raw.strip()
    if "?" in raw:
        raw = raw.split("?", 1)[1]
    pairs = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True) if k not in ("page", "page_size")]
    query, problems = parse_search(pairs, areas)
    errors = [FieldError(f"query.{name}", message, params) for name, message, params in problems]
    canonical = urlencode(query.params(page=1, page_size=DEFAULT_PAGE_SIZE))
    if len(canonical) > MAX_SAVED_QUERY_LENGTH:
        errors.append(FieldError("query", N_("At most %(n)s characters."), {"n": MAX_SAVED_QUERY_LENGTH}))
    return canonical, query, errors


class SavedSearchService:
    """Saved searches are personal: only their owner, acting as a company member or admin, sees
    them; anyone else's answer 404."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def may_save(principal: Principal) -> bool:
        """Company members and admins save searches (the search page offers it to them)."""
        return principal.role in COMPANY_ROLES

    @staticmethod
    def require_saver(principal: Principal) -> Principal:
        return principal.require(*COMPANY_ROLES)

    async def _area_codes(self) -> set[str]:
        return {area.code for area in await CatalogService(self.session).areas()}

    async def owned(self, principal: Principal) -> list[SavedSearch]:
        principal.require(*COMPANY_ROLES)
        stmt = (
            select(SavedSearch)
            .where(SavedSearch.user_id == principal.user_id)
            .order_by(func.lower(SavedSearch.name), SavedSearch.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get(self, principal: Principal, saved_id: uuid.UUID) -> SavedSearch:
        principal.require(*COMPANY_ROLES)
        saved = await self.session.scalar(
            select(SavedSearch).where(SavedSearch.id == saved_id, SavedSearch.user_id == principal.user_id).with_for_update()
        )
        if saved is None:
            raise NotFound()
        return saved

    async def _name(self, principal: Principal, name: str, errors: list[FieldError], exclude: uuid.UUID | None = None) -> str:
        name = " ".join(name.split())
        if not name:
            errors.append(FieldError("name", N_("Required.")))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(FieldError("name", N_("At most %(n)s characters."), {"n": MAX_NAME_LENGTH}))
        else:
            taken = select(SavedSearch.id).where(
                SavedSearch.user_id == principal.user_id, func.lower(SavedSearch.name) == name.lower()
            )
            if exclude:
                taken = taken.where(SavedSearch.id != exclude)
            if await self.session.scalar(taken):
                errors.append(FieldError("name", N_("You already have a saved search with this name.")))
        return name

    async def create(self, principal: Principal, name: str, query: str, *, email_enabled: bool = True) -> SavedSearch:
        principal.require(*COMPANY_ROLES)
        errors: list[FieldError] = []
        name = await self._name(principal, name, errors)
        canonical, _query, query_errors = canonical_query(query, await self._area_codes())
        if errors or query_errors:
            raise InvalidInput(*errors, *query_errors)
        count = (await self.session.execute(select(func.count()).where(SavedSearch.user_id == principal.user_id))).scalar_one()
        if count >= MAX_SAVED_SEARCHES:
            raise Conflict(N_("You can keep at most %(n)s saved searches; delete one first."), n=MAX_SAVED_SEARCHES)
        saved = SavedSearch(
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            name=name,
            query=canonical,
            email_enabled=email_enabled,
            unsubscribe_token=secrets.token_urlsafe(32),
        )
        if not await add_unless_taken(self.session, saved, "uq_saved_searches_user_name"):
            raise InvalidInput(FieldError("name", N_("You already have a saved search with this name.")))
        await self.session.refresh(saved)
        await audit.record(
            self.session,
            "saved_search_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=saved,
            name=name,
            query=canonical,
        )
        return saved

    async def update(
        self,
        principal: Principal,
        saved_id: uuid.UUID,
        *,
        name: str | None = None,
        query: str | None = None,
        email_enabled: bool | None = None,
    ) -> SavedSearch:
        saved = await self.get(principal, saved_id)
        errors: list[FieldError] = []
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = await self._name(principal, name, errors, exclude=saved.id)
        if query is not None:
            changes["query"], _query, query_errors = canonical_query(query, await self._area_codes())
            errors += query_errors
        if errors:
            raise InvalidInput(*errors)
        if email_enabled is not None:
            changes["email_enabled"] = email_enabled
        changed = {key: value for key, value in changes.items() if getattr(saved, key) != value}
        if not changed:
            return saved
        for key, value in changed.items():
            setattr(saved, key, value)
        if changed.get("email_enabled"):  # back on: e-mail what is found from now, not the backlog
            saved.email_since = func.now()
        saved.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(saved)
        await audit.record(
            self.session,
            "saved_search_updated",
            actor_user_id=principal.user_id,
            organization_id=saved.organization_id,
            subject=saved,
            **changed,
        )
        return saved

    async def delete(self, principal: Principal, saved_id: uuid.UUID) -> None:
        saved = await self.get(principal, saved_id)
        await audit.record(
            self.session,
            "saved_search_deleted",
            actor_user_id=principal.user_id,
            organization_id=saved.organization_id,
            subject=saved,
            name=saved.name,
        )
        await self.session.delete(saved)
        await self.session.flush()

    async def count_new_finds(self, principal: Principal, since: datetime) -> int:
        """Listings the caller's saved searches found since `since` (what /saved-searches shows)."""
        principal.require()
        stmt = (
            select(func.count())
            .select_from(SavedSearchMatch)
            .join(SavedSearch, SavedSearch.id == SavedSearchMatch.saved_search_id)
            .where(SavedSearch.user_id == principal.user_id, SavedSearchMatch.found_at >= since)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def recent_matches(self, ids: Iterable[uuid.UUID], per_search: int = 5) -> dict[uuid.UUID, list[SavedSearchMatch]]:
        """The newest finds of each of these searches (callers pass only the caller's own)."""
        ids = list(ids)
        if not ids:
            return {}
        rank = (
            func.row_number()
            .over(
                partition_by=SavedSearchMatch.saved_search_id,
                order_by=(SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc()),
            )
            .label("rank")
        )
        ranked = select(SavedSearchMatch.id, rank).where(SavedSearchMatch.saved_search_id.in_(ids)).subquery()
        stmt = (
            select(SavedSearchMatch)
            .join(ranked, ranked.c.id == SavedSearchMatch.id)
            .where(ranked.c.rank <= per_search)
            .order_by(SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc())
        )
        found: dict[uuid.UUID, list[SavedSearchMatch]] = {saved_id: [] for saved_id in ids}
        for match in await self.session.scalars(stmt):
            found[match.saved_search_id].append(match)
        return found

    async def by_unsubscribe_token(self, token: str) -> SavedSearch:
        """The token of a digest's "stop e-mails for this search" link; anything else is not found."""
        saved = await self.session.scalar(select(SavedSearch).where(SavedSearch.unsubscribe_token == token))
        if saved is None:
            raise NotFound()
        return saved

    async def unsubscribe(self, token: str, *, ip: str | None = None) -> SavedSearch:
        saved = await self.by_unsubscribe_token(token)
        if saved.email_enabled:
            saved.email_enabled = False
            saved.updated_at = func.now()
            await self.session.flush()
            await self.session.refresh(saved)
            await audit.record(
                self.session,
                "saved_search_unsubscribed",
                organization_id=saved.organization_id,
                subject=saved,
                ip=ip,
                user_id=saved.user_id,
            )
        return saved
