"""The one place that fills the registries other code reads: every search index the outbox feeds,
every kind of e-mail a user may turn off, every kind of conversation subject and every worker job.

Nothing registers itself at import: the app (`create_app`), the worker and the `marketplace`
command call `wire()` before they use a registry, so whichever of them starts, it sees all of
them. Calling it again changes nothing.
"""

from __future__ import annotations

from marketplace.accounts.integrations import purge_job as purge_integration_tokens_job
from marketplace.accounts.sessions import purge_job as purge_sessions_job
from marketplace.analytics.services import refresh_job as refresh_analytics_job
from marketplace.beds.availability import availability_job
from marketplace.beds.startup_notices import startup_job
from marketplace.catalog.lifecycle import stale_job
from marketplace.catalog.panels import register_listing_panel
from marketplace.events.admin import close_registrations_job
from marketplace.events.meeting_notices import MEETING_EMAIL
from marketplace.events.reminders import REMINDER_EMAIL as EVENT_REMINDER_EMAIL
from marketplace.events.reminders import follow_up_job as event_follow_up_job
from marketplace.events.reminders import meeting_reminder_job as event_meeting_reminder_job
from marketplace.licensing.reminders import REMINDER_EMAIL as LICENSING_REMINDER_EMAIL
from marketplace.licensing.reminders import licensing_job
from marketplace.matching.events import ACTIVITY_EMAIL, MESSAGE_EMAIL, REMINDER_EMAIL
from marketplace.matching.needs.deadlines import expire_job
from marketplace.matching.needs.notices import DECISION_EMAIL, RESPONSE_EMAIL
from marketplace.matching.needs.search import NEEDS_INDEX
from marketplace.matching.requests.deadlines import reminder_job
from marketplace.matching.requests.listing_panels import PANELS as MATCH_REQUEST_PANELS
from marketplace.matching.threads.subjects import (
    MatchRequestThreads,
    NeedResponseThreads,
    SubjectKind,
    register_subject_kind,
)
from marketplace.notifications.services import email_job, register_email_kind
from marketplace.search.documents import LISTINGS_INDEX
from marketplace.search.embedding_job import embed_job
from marketplace.search.index_settings import register_index
from marketplace.search.outbox import prune_job, relay_job
from marketplace.search.saved_search_alerts import DIGEST_EMAIL, alerts_job, digest_job
from marketplace.worker import Job, register_job


def wire() -> None:
    # The outbox relay, `marketplace search reindex` and `marketplace search check` go through these.
    for index in (LISTINGS_INDEX, NEEDS_INDEX):
        register_index(index)
    # In the order the notification settings page lists them.
    for kind in (
        ACTIVITY_EMAIL,
        MESSAGE_EMAIL,
        REMINDER_EMAIL,
        RESPONSE_EMAIL,
        DECISION_EMAIL,
        DIGEST_EMAIL,
        LICENSING_REMINDER_EMAIL,
        EVENT_REMINDER_EMAIL,
        MEETING_EMAIL,
    ):
        register_email_kind(kind)
    subjects: tuple[SubjectKind, ...] = (MatchRequestThreads(), NeedResponseThreads())
    for subject in subjects:
        register_subject_kind(subject)
    # A listing's page shows the viewer's own request on it, and its TTO the requests received.
    for panel in MATCH_REQUEST_PANELS:
        register_listing_panel(panel)
    for job in (
        Job("mark_stale_listings", 3600, stale_job),
        # Page sessions that ended or expired more than a day ago, and single sign-ons never finished.
        Job("purge_sessions", 3600, purge_sessions_job),
        # Integration clients' access tokens that have run out (each issue stays in the audit trail).
        Job("purge_integration_tokens", 3600, purge_integration_tokens_job),
        # As soon as outbox rows are committed (the outbox's trigger defers it in their transaction),
        # and every five seconds for the retries of changes Meilisearch refused.
        Job("relay_search_outbox", 5, relay_job),
        Job("prune_search_outbox", 3600, prune_job),
        # Embeddings of listings and needs whose text changed (hybrid search), off the event loop.
        Job("embed_search_documents", 5, embed_job),
        # Saved searches: in-app alerts within about a minute; the digest goes out once a user's
        # 24 hours have passed (the job only decides whether it is due).
        Job("saved_search_alerts", 60, alerts_job),
        Job("saved_search_digests", 300, digest_job),
        # Reminders two working days before a match request's response deadline, once each.
        Job("remind_match_request_deadlines", 600, reminder_job),
        # Queued e-mails (match events and messages) leave as soon as they are committed (the queue's
        # trigger defers it in their transaction), and every five seconds for the retries.
        Job("send_queued_emails", 5, email_job),
        # Needs whose deadline has passed close (and leave the needs index) within ten minutes.
        Job("close_expired_needs", 600, expire_job),
        # Licensing, for today in China time: agreements take effect, use periods end in conversion,
        # reminders before use periods end and items fall due, late and default notices, once each.
        Job("licensing_daily", 3600, licensing_job),
        # Trial engagements past 12 weeks without a first consent: their TTO is told once.
        Job("trial_startup_flags", 3600, startup_job),
        # Research wards' free beds for search: the 90-day window moves each day (China time).
        Job("bed_availability_daily", 3600, availability_job),
        # The dashboards' materialised views: figures are at most five minutes old.
        Job("refresh_analytics", 300, refresh_analytics_job),
        # Events (agendas): both sides reminded once before each confirmed meeting (the window is
        # settings.event_reminder_minutes, so a run every minute is on time); follow-ups not acted
        # on, once, 10 working days after the meeting.
        Job("remind_event_meetings", 60, event_meeting_reminder_job),
        Job("remind_event_follow_ups", 3600, event_follow_up_job),
        # Events whose registration deadline passed move on to scheduling within ten minutes.
        Job("close_registrations", 600, close_registrations_job),
    ):
        register_job(job)
