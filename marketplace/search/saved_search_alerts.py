"""Saved searches' alerts (in-app, every minute) and their daily e-mail digest."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import i18n
from marketplace.accounts.models import COMPANY_ROLES
from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.i18n import N_
from marketplace.notifications.services import EmailKind, NotificationService, send_email, unsubscribe_headers
from marketplace.search.documents import epoch_ms
from marketplace.search.engine import SearchEngine, SearchUnavailable, search_engine_for
from marketplace.search.models import EntityType, OutboxEntry, SavedSearch, SavedSearchDigest, SavedSearchMatch
from marketplace.search.query import MAX_PAGE_SIZE, SearchQuery, parse_search, run_search
from marketplace.search.saved_searches import search_url

log = logging.getLogger(__name__)

# A company member saves the query of /search under a name. The alert job takes the listing
# changes that the relay has put into the index since its last round (processed outbox rows it has
# not marked yet: a change still on its way is not looked at, a transaction that commits late is
# looked at when its row is sent), runs every saved query through the same query code as the page
# (parse_search → run_search) for listings changed since the oldest of them, records each find
# once per search, listing and change (a rerun finds the row and notifies nobody again) and
# notifies the owner in-app. The digest job e-mails each user, at most once in 24 hours, what
# their searches with e-mail on found since the last digest.

ALERT_KIND = "saved_search_matches"
ALERT_CHANGES = 5000  # outbox rows looked at in one round; the rest wait for the next
ALERT_BATCH = 100  # saved searches per transaction
ALERT_MAX_MATCHES = 200  # per saved search and round; the notification links to the search for all
DIGEST_QUIET = timedelta(hours=24)
DIGEST_MAX_PER_SEARCH = 20

DIGEST_EMAIL = EmailKind(
    "saved_search_digest",
    N_("Saved-search digest"),
    N_("At most one e-mail a day with the new matches of your saved searches."),
    roles=COMPANY_ROLES,  # only companies save searches
)


# -- alerts ---------------------------------------------------------------------------------------


@dataclass
class AlertRound:
    """What one alert round did."""

    changes: int = 0  # indexed changes (outbox rows) looked at
    searches: int = 0  # saved searches run against the index
    matches: int = 0  # new finds recorded
    notified: int = 0  # notifications created


async def _changed_matches(search: SearchEngine, saved: SavedSearch, areas: set[str], after_ms: int) -> list[dict[str, Any]]:
    """Documents of listings that match the saved query and changed after `after_ms` (and after
    the search was saved), newest first."""
    query, _ = parse_search(parse_qsl(saved.query), areas, strict=False)
    query.changed_after = max(after_ms, epoch_ms(saved.created_at))
    query.sort, query.page_size = "newest", MAX_PAGE_SIZE
    documents: list[dict[str, Any]] = []
    while len(documents) < ALERT_MAX_MATCHES:
        outcome = await run_search(search, query, facets=False)
        documents += [hit.document for hit in outcome.hits]
        if query.page >= outcome.pages:
            break
        query.page += 1
    return documents[:ALERT_MAX_MATCHES]


async def _record_matches(session: AsyncSession, saved: SavedSearch, documents: list[dict[str, Any]]) -> list[SavedSearchMatch]:
    """Record the finds not recorded before (by search, listing and change); returns the new ones."""
    ids = {uuid.UUID(doc["id"]) for doc in documents}
    # A listing deleted since it was indexed (its removal still on its way) is left out.
    existing = set(await CatalogService(session).listing_refs(ids))
    seen = set(
        (
            await session.scalars(
                select(SavedSearchMatch.listing_id).where(
                    SavedSearchMatch.saved_search_id == saved.id, SavedSearchMatch.listing_id.in_(ids)
                )
            )
        ).all()
    )
    rows = [
        {
            "saved_search_id": saved.id,
            "listing_id": uuid.UUID(doc["id"]),
            "changed_at_ms": int(doc["changed_at_ms"]),
            "is_new": uuid.UUID(doc["id"]) not in seen,
            "title_zh": doc["title_zh"],
            "title_en": doc.get("title_en"),
        }
        for doc in documents
        if uuid.UUID(doc["id"]) in existing
    ]
    if not rows:
        return []
    stmt = (
        pg_insert(SavedSearchMatch)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_saved_search_matches_change")
        .returning(SavedSearchMatch)
    )
    return list((await session.scalars(stmt, execution_options={"populate_existing": True})).all())


async def _notify_matches(session: AsyncSession, saved: SavedSearch, matches: list[SavedSearchMatch]) -> None:
    await NotificationService(session).notify(
        [saved.user_id],
        ALERT_KIND,
        N_("New matches for your saved search “%(name)s”: %(count)s"),
        params={"name": saved.name, "count": len(matches)},
        items=[
            {
                "label": m.title_zh,
                "label_en": m.title_en,
                "link": f"/listings/{m.listing_id}",
                "tag": N_("New") if m.is_new else N_("Updated"),
            }
            for m in matches
        ],
        link=search_url(saved.query),
    )


async def _run_saved_searches(
    sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine, after_ms: int, report: AlertRound
) -> None:
    """Every saved search, a batch per transaction: its finds among listings changed after `after_ms`."""
    last: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            stmt = select(SavedSearch).order_by(SavedSearch.id).limit(ALERT_BATCH)
            batch = list((await session.scalars(stmt.where(SavedSearch.id > last) if last else stmt)).all())
            if not batch:
                return
            areas = {area.code for area in await CatalogService(session).areas()}
            for saved in batch:
                documents = await _changed_matches(search, saved, areas, after_ms)
                report.searches += 1
                matches = await _record_matches(session, saved, documents) if documents else []
                if matches:
                    await _notify_matches(session, saved, matches)
                    report.matches += len(matches)
                    report.notified += 1
            last = batch[-1].id


async def run_alerts(sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine) -> AlertRound:
    """One round: the changes the relay has indexed since the last round, looked at by every
    saved search (a batch of searches per transaction), then marked as looked at. One round at a
    time (an advisory lock); a round cut short is redone, and the match table keeps it from
    notifying twice."""
    report = AlertRound()
    async with sessionmaker() as guard:
        if not await guard.scalar(select(func.pg_try_advisory_xact_lock(func.hashtextextended("saved-search-alerts", 0)))):
            return report  # another worker's round is running
        rows = (
            await guard.execute(
                select(OutboxEntry.id, OutboxEntry.created_at)
                .where(
                    OutboxEntry.processed_at.is_not(None),
                    OutboxEntry.alerted_at.is_(None),
                    OutboxEntry.entity_type == EntityType.listing,  # saved searches look at listings only
                )
                .order_by(OutboxEntry.id)
                .limit(ALERT_CHANGES)
            )
        ).all()
        if not rows:
            return report
        report.changes = len(rows)
        # A change's listing carries the same time as its outbox row (their transaction's now()).
        after_ms = epoch_ms(min(created for _, created in rows)) - 1
        # Renames, stale marks and reindexing write rows without changing a listing: often nothing to do.
        if (await run_search(search, SearchQuery(changed_after=after_ms, page_size=1), facets=False)).total:
            await _run_saved_searches(sessionmaker, search, after_ms, report)
        await guard.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_([row_id for row_id, _ in rows])).values(alerted_at=func.now())
        )
        await guard.commit()
    return report


async def alerts_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's job (every minute); Meilisearch being down only delays it."""
    async with search_engine_for(settings) as search:
        try:
            done = await run_alerts(sessionmaker, search)
        except SearchUnavailable as error:
            log.warning("saved-search alerts wait for search: %s", error)
            return
    if done.notified:
        log.info("saved-search alerts: %d match(es), %d notification(s)", done.matches, done.notified)


# -- the digest -----------------------------------------------------------------------------------


async def send_digests(sessionmaker: async_sessionmaker[AsyncSession], settings) -> int:
    """A digest to every user who has undigested matches on searches with e-mail on and had none
    in the last 24 hours; returns how many were sent. One transaction per user: a failed send
    leaves that user's matches for the next round."""
    quiet = exists().where(SavedSearchDigest.user_id == SavedSearch.user_id, SavedSearchDigest.quiet_until > func.now())
    async with sessionmaker() as session:
        users = (
            await session.scalars(
                select(SavedSearch.user_id)
                .distinct()
                .join(SavedSearchMatch, SavedSearchMatch.saved_search_id == SavedSearch.id)
                .where(*_digestible(), ~quiet)
            )
        ).all()
    sent = 0
    for user_id in users:
        async with sessionmaker() as session, session.begin():
            sent += await send_digest(session, settings, user_id)
    return sent


def _digestible() -> list:
    return [SavedSearch.email_enabled, SavedSearchMatch.digest_id.is_(None), SavedSearchMatch.found_at >= SavedSearch.email_since]


async def send_digest(session: AsyncSession, settings, user_id: uuid.UUID) -> bool:
    """The user's digest, if one is due and there is something in it. The digest row, the marks on
    its matches and the e-mail go together: if sending fails, the transaction rolls back."""
    key = func.hashtextextended(f"saved-search-digest:{user_id}", 0)
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(key))):
        return False  # another worker is on it
    if await session.scalar(
        select(exists().where(SavedSearchDigest.user_id == user_id, SavedSearchDigest.quiet_until > func.now()))
    ):
        return False
    notifications = NotificationService(session)
    wanted, since = await notifications.wants_email_since(user_id, DIGEST_EMAIL.key)
    user = (await AccountService(session).active_users({user_id})).get(user_id)
    if not wanted or user is None:
        return False
    conditions = [SavedSearch.user_id == user_id, *_digestible()]
    if since is not None:
        conditions.append(SavedSearchMatch.found_at >= since)
    rows = (
        await session.execute(
            select(SavedSearch, SavedSearchMatch)
            .join(SavedSearchMatch, SavedSearchMatch.saved_search_id == SavedSearch.id)
            .where(*conditions)
            .order_by(func.lower(SavedSearch.name), SavedSearch.id, SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc())
            .with_for_update(of=SavedSearchMatch)
        )
    ).all()
    if not rows:
        return False
    groups: dict[uuid.UUID, tuple[SavedSearch, dict[uuid.UUID, SavedSearchMatch]]] = {}
    for saved, match in rows:
        listed = groups.setdefault(saved.id, (saved, {}))[1]
        listed.setdefault(match.listing_id, match)  # a listing changed twice is listed once, as it is now
    digest = SavedSearchDigest(user_id=user_id, matches=len(rows), quiet_until=func.now() + DIGEST_QUIET)
    session.add(digest)
    await session.flush()
    await session.execute(
        update(SavedSearchMatch).where(SavedSearchMatch.id.in_([m.id for _, m in rows])).values(digest_id=digest.id)
    )
    stop_all = f"{settings.base_url.rstrip('/')}/unsubscribe/{await notifications.unsubscribe_token(user_id, DIGEST_EMAIL.key)}"
    subject, text = digest_email(settings, user, list(groups.values()), stop_all)
    await send_email(settings, user.email, subject, text, headers=unsubscribe_headers(stop_all))
    return True


def digest_email(
    settings, user, groups: list[tuple[SavedSearch, dict[uuid.UUID, SavedSearchMatch]]], stop_all: str
) -> tuple[str, str]:
    """Subject and text of a digest, in the user's language."""
    base = settings.base_url.rstrip("/")
    locale = user.locale if user.locale in i18n.LOCALES else settings.default_locale
    token = i18n.current_locale.set(locale)
    try:
        _ = i18n.gettext
        english = locale == "en"
        total = sum(len(matches) for _saved, matches in groups)
        lines = [_("Hello %(name)s,", name=user.name), "", _("New matches for your saved searches since the last digest:"), ""]
        for saved, matches in groups:
            lines.append(f"■ {saved.name} — " + _("%(count)s new or changed listings", count=len(matches)))
            for match in list(matches.values())[:DIGEST_MAX_PER_SEARCH]:
                title = match.title_en if english and match.title_en else match.title_zh
                tag = _("New") if match.is_new else _("Updated")
                lines += [f"  · {title} [{tag}]", f"    {base}/listings/{match.listing_id}"]
            if len(matches) > DIGEST_MAX_PER_SEARCH:
                lines.append("  " + _("… and %(n)s more in the search.", n=len(matches) - DIGEST_MAX_PER_SEARCH))
            lines += [
                "  " + _("Open this search: %(url)s", url=base + search_url(saved.query)),
                "  "
                + _("Stop e-mails for this search: %(url)s", url=f"{base}/saved-searches/unsubscribe/{saved.unsubscribe_token}"),
                "",
            ]
        lines += [
            _("Manage your saved searches: %(url)s", url=f"{base}/saved-searches"),
            _("Stop all saved-search digests: %(url)s", url=stop_all),
        ]
        return _("New matches for your saved searches: %(count)s", count=total), "\n".join(lines) + "\n"
    finally:
        i18n.current_locale.reset(token)


async def digest_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    sent = await send_digests(sessionmaker, settings)
    if sent:
        log.info("sent %d saved-search digest(s)", sent)
