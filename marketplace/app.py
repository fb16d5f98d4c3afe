"""create_app(): plugins, routes, middleware and lifespan, built from the settings it is given."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager, suppress

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Headers, MutableScopeHeaders, State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import text

from marketplace import i18n, page_cache, places
from marketplace.accounts.api import AccountsApi, provide_principal
from marketplace.accounts.front_door_pages import FrontDoorPages
from marketplace.accounts.integration_api import IntegrationsApi, token_endpoint
from marketplace.accounts.integration_pages import IntegrationPages
from marketplace.accounts.integrations import provide_integrations
from marketplace.accounts.oidc import provide_single_sign_on
from marketplace.accounts.oidc_flow import provide_sign_on
from marketplace.accounts.pages import AccountPages
from marketplace.accounts.passwords import use_password_profile
from marketplace.accounts.services import provide_accounts
from marketplace.accounts.sessions import save_session, session_middleware
from marketplace.accounts.sso_admin_pages import SsoAdminPages
from marketplace.accounts.sso_pages import SsoPages
from marketplace.analytics.api import AnalyticsApi, ReportsApi
from marketplace.analytics.front_door import provide_front_door
from marketplace.analytics.home import provide_home_queues
from marketplace.analytics.home_pages import HomePages
from marketplace.analytics.pages import DashboardPages
from marketplace.analytics.report_pages import ReportPages
from marketplace.analytics.services import provide_analytics
from marketplace.api_docs import StrictStructSchemaPlugin, document_query_parameters
from marketplace.api_errors import SECURITY_SCHEMES, document_api_errors
from marketplace.beds.api import BedAllocationsApi, WardsApi
from marketplace.beds.engagement_api import TrialEngagementsApi
from marketplace.beds.engagement_pages import EngagementPages
from marketplace.beds.fee_api import BedFeesApi
from marketplace.beds.pages import AllocationPages, WardPages
from marketplace.beds.project_api import ProjectApi
from marketplace.beds.project_pages import ProjectPages
from marketplace.beds.services import provide_beds
from marketplace.catalog.api import CatalogApi, NdaApi
from marketplace.catalog.page_views import VisitCounts
from marketplace.catalog.pages import CatalogPages
from marketplace.catalog.services import provide_catalog
from marketplace.catalog.tto_pages import TtoPages
from marketplace.catalog.viewer_pages import ListingReaderPages
from marketplace.config import PROJECT_ROOT, Settings
from marketplace.db import check_schema_revision, finish_db_session, make_engine, make_sessionmaker, provide_db_session
from marketplace.error_answers import EXCEPTION_HANDLERS

# Events: the organizer's events and registrations (issue 17, points 1–2).
from marketplace.events.admin import provide_events
from marketplace.events.agenda_api import AgendaApi  # events: agendas, check-in, outcomes
from marketplace.events.agenda_pages import AgendaPages
from marketplace.events.agenda_service import provide_agendas
from marketplace.events.api import EventsApi

# Events: meeting requests and their placing (issue 17, points 3–4).
from marketplace.events.meeting_api import MeetingRequestsApi
from marketplace.events.meeting_pages import MeetingPages
from marketplace.events.meeting_requests import provide_meeting_requests
from marketplace.events.pages import EventPages
from marketplace.events.placing import provide_placing
from marketplace.ledger.api import DistributionPoliciesApi, LedgerApi, PayoutsApi, StatementsApi
from marketplace.ledger.pages import LedgerPages
from marketplace.ledger.services import provide_ledger
from marketplace.ledger.statement_pages import StatementPages
from marketplace.licensing.api import AgreementsApi
from marketplace.licensing.open_licence_api import OpenLicenceApi
from marketplace.licensing.open_licence_pages import OpenLicencePages
from marketplace.licensing.pages import AgreementPages
from marketplace.licensing.payment_api import AgreementMoneyApi
from marketplace.licensing.performance_api import PerformanceApi, PerformancePages
from marketplace.licensing.services import provide_licensing
from marketplace.logs import request_id_middleware
from marketplace.matching.needs.api import NeedsApi, RecommendationsApi
from marketplace.matching.needs.pages import NeedsPages
from marketplace.matching.needs.response_pages import NeedResponsePages
from marketplace.matching.needs.response_pages import thread_problem_page as response_thread_problem
from marketplace.matching.needs.services import provide_needs
from marketplace.matching.profile_pages import ProfilePages
from marketplace.matching.requests.api import MatchingApi
from marketplace.matching.requests.pages import MatchingPages
from marketplace.matching.requests.pages import thread_problem_page as request_thread_problem
from marketplace.matching.requests.services import provide_matching
from marketplace.matching.threads.api import NeedResponseThreadApi, ThreadApi, sized_for
from marketplace.matching.threads.models import SubjectKindName
from marketplace.matching.threads.pages import thread_pages
from marketplace.matching.threads.services import provide_threads
from marketplace.metrics import prometheus_config
from marketplace.notifications.api import NotificationsApi
from marketplace.notifications.pages import NotificationPages, provide_notifications
from marketplace.page_cache import member_page_cache_middleware, page_cache_middleware
from marketplace.page_cache_events import listen_for_changes, open_visit_pool
from marketplace.probes import health, ready, scrape
from marketplace.search.api import SavedSearchApi, SearchApi, provide_saved_searches
from marketplace.search.engine import search_engine_for
from marketplace.search.outbox import install_outbox_listeners
from marketplace.search.pages import SavedSearchPages, SearchPages
from marketplace.security_headers import security_headers
from marketplace.web import refuse_control_characters
from marketplace.wiring import wire
from marketplace.worker import run_worker

log = logging.getLogger(__name__)

TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"


def locale_middleware(app: ASGIApp) -> ASGIApp:
    """Sets the request's language (cookie, then Accept-Language, then Chinese) for the message
    catalogue, and says which one the answer is in."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        cookies = dict(part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part)
        locale = i18n.pick_locale(cookies.get(i18n.LANG_COOKIE), headers.get("accept-language"))
        token = i18n.current_locale.set(locale)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["Content-Language"] = i18n.html_lang(locale)
            await send(message)

        try:
            await app(scope, receive, send_with_language)
        finally:
            i18n.current_locale.reset(token)

    return middleware


async def provide_settings(state: State) -> Settings:
    return state.settings


async def wait_for_database(engine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _cancel_and_wait(task: asyncio.Task) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> Litestar:
    if not settings.database_url or not settings.meili_url:
        raise ValueError("create_app needs DATABASE_URL and MEILI_URL; `marketplace run` starts embedded ones")
    use_password_profile(settings.password_hash_profile)
    wire()
    # Listing changes write their search outbox rows in the same transaction, and changes to what
    # visitors' pages show drop the pages kept for them (it installs the page cache's listeners too).
    install_outbox_listeners()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        engine = make_engine(settings.database_url, pool_timeout=settings.db_pool_timeout_seconds)
        search = search_engine_for(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.search = search
        try:
            # Serve only once both services answer; warm the Chinese segmenter first.
            await wait_for_database(engine)
            await check_schema_revision(engine)
            await search.wait_healthy()
            await search.warm_up()
            # Index settings live in code (search.index_settings.INDEX_SETTINGS); apply them every start.
            await search.apply_all_settings()
            # Undone in reverse order, each step even when a start or an earlier step failed.
            async with AsyncExitStack() as undo:
                if settings.run_worker_in_app:
                    # Waited for: a relay round in flight rolls back and its engine closes.
                    undo.push_async_callback(_cancel_and_wait, asyncio.create_task(run_worker(settings)))
                store = page_cache.configure(settings.page_cache_seconds)
                app.state.visit_counts = VisitCounts()
                if store.enabled:
                    listener = asyncio.create_task(listen_for_changes(settings.database_url, store))
                    undo.push_async_callback(_cancel_and_wait, listener)
                    visit_pool = await open_visit_pool(settings.database_url)
                    undo.push_async_callback(visit_pool.close)
                    # Cancelled before its pool closes: its last flush writes the views still held.
                    undo.push_async_callback(_cancel_and_wait, asyncio.create_task(app.state.visit_counts.run(visit_pool)))
                yield
        finally:
            await search.aclose()
            await engine.dispose()

    def configure_jinja(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.add_extension("jinja2.ext.i18n")
        # The i18n extension adds this method at runtime (Environment.extend), so jinja2's types lack it.
        env.install_gettext_callables(i18n.translate, i18n.translate_plural, newstyle=True)  # type: ignore[attr-defined]
        env.globals["current_locale"] = i18n.current_locale.get
        env.globals["html_lang"] = i18n.html_lang
        env.filters["china_datetime"] = i18n.format_china_datetime
        env.filters["china_date"] = i18n.format_china_date
        env.filters["city"] = places.city
        env.globals["place"] = places.place
        env.globals["zh_lang"] = places.zh_lang
        env.filters["days_ago"] = i18n.format_days_ago
        env.filters["china_moment"] = i18n.format_china_moment

    static_routers = [create_static_files_router(path="/static", directories=[STATIC], name="static")]
    pico = NODE_MODULES / "@picocss" / "pico" / "css"
    static_routers.append(create_static_files_router(path="/assets/pico", directories=[pico], name="pico"))
    htmx = NODE_MODULES / "htmx.org" / "dist"
    static_routers.append(create_static_files_router(path="/assets/htmx", directories=[htmx], name="htmx"))
    # Apache ECharts draws the dashboards' charts in the page (each chart also has its table).
    echarts = NODE_MODULES / "echarts" / "dist"
    static_routers.append(create_static_files_router(path="/assets/echarts", directories=[echarts], name="echarts"))

    app = Litestar(
        route_handlers=[
            health,
            ready,
            scrape,
            AccountsApi,
            AccountPages,
            # Integration clients (OAuth 2 client credentials): the token endpoint, API and pages.
            token_endpoint,
            IntegrationsApi,
            IntegrationPages,
            SsoPages,
            SsoAdminPages,
            FrontDoorPages,
            HomePages,
            CatalogApi,
            NdaApi,
            CatalogPages,
            TtoPages,
            ProfilePages,
            ListingReaderPages,
            SearchApi,
            SearchPages,
            SavedSearchApi,
            SavedSearchPages,
            NotificationsApi,
            NotificationPages,
            MatchingApi,
            MatchingPages,
            # Threads take files: their requests may be as large as the attachment limits allow.
            sized_for(ThreadApi, settings),
            sized_for(NeedResponseThreadApi, settings),
            sized_for(
                thread_pages(SubjectKindName.match_request, "/match-requests/{request_id:uuid}", request_thread_problem), settings
            ),
            sized_for(
                thread_pages(
                    SubjectKindName.need_response, "/needs/{need_id:uuid}/responses/{response_id:uuid}", response_thread_problem
                ),
                settings,
            ),
            NeedsApi,
            RecommendationsApi,
            NeedsPages,
            NeedResponsePages,
            DistributionPoliciesApi,
            LedgerApi,
            PayoutsApi,
            StatementsApi,
            StatementPages,
            LedgerPages,
            AgreementsApi,
            WardsApi,
            BedAllocationsApi,
            WardPages,
            AllocationPages,
            AgreementPages,
            PerformanceApi,
            PerformancePages,
            AgreementMoneyApi,
            OpenLicenceApi,
            OpenLicencePages,
            ProjectApi,
            ProjectPages,
            TrialEngagementsApi,
            EngagementPages,
            BedFeesApi,
            # Events: the organizer's events and registrations.
            EventsApi,
            EventPages,
            # Events: meeting requests and their placing.
            MeetingRequestsApi,
            MeetingPages,
            DashboardPages,
            AnalyticsApi,
            ReportsApi,
            ReportPages,
            # Events: agendas, check-in, outcomes.
            AgendaApi,
            AgendaPages,
            *static_routers,
        ],
        lifespan=[lifespan],
        dependencies={
            "settings": Provide(provide_settings),
            "db_session": Provide(provide_db_session, sync_to_thread=False),
            "principal": Provide(provide_principal),
            "accounts": Provide(provide_accounts),
            "integrations": Provide(provide_integrations),
            "sign_on": Provide(provide_sign_on),
            "sso": Provide(provide_single_sign_on),
            "catalog": Provide(provide_catalog),
            "notifications": Provide(provide_notifications),
            "saved_searches": Provide(provide_saved_searches),
            "matching": Provide(provide_matching),
            "threads": Provide(provide_threads),
            "needs": Provide(provide_needs),
            "ledger": Provide(provide_ledger),
            "licensing": Provide(provide_licensing),
            "beds": Provide(provide_beds),
            "agendas": Provide(provide_agendas),  # events: agendas, check-in, outcomes
            "events": Provide(provide_events),
            # Events: meeting requests and their placing.
            "meeting_requests": Provide(provide_meeting_requests),
            "placing": Provide(provide_placing),
            "analytics": Provide(provide_analytics),
            "home": Provide(provide_home_queues),
            "front_door": Provide(provide_front_door),
        },
        middleware=[
            # First, so every log line of the request (and its answer) carries the request id.
            request_id_middleware,
            prometheus_config().middleware,
            # Before the session: a kept page for a visitor needs neither a session nor the database.
            page_cache_middleware,
            # Server-side sessions of the pages (accounts/sessions.py): also binds the CSRF token to the session.
            session_middleware,
            # After the session (found live), before the locale: a signed-in session's own kept pages.
            member_page_cache_middleware,
            locale_middleware,
        ],
        csrf_config=CSRFConfig(
            secret=settings.resolved_secret_key(),
            cookie_httponly=True,
            cookie_secure=settings.https,
            # The API authenticates only by bearer token, never by cookie, so it needs no CSRF token.
            exclude=["/api/", "/oauth/", "/health", "/ready", "/metrics", "/schema"],
        ),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure_jinja),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Medical tech-transfer marketplace",
            version="1",
            path="/schema",
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
        plugins=[StrictStructSchemaPlugin()],
        # Control characters in any text are refused once, here, for every route.
        before_request=refuse_control_characters,
        # The request's transaction first, then the session (which must not wait on it).
        before_send=[finish_db_session, save_session, security_headers(settings)],
        request_max_body_size=settings.max_body_bytes,
        # Server errors are logged with their stack; a client's mistakes are not.
        # Litestar's own logger goes through the root handler that marketplace.logs configures.
        logging_config=LoggingConfig(
            configure_root_logger=False,
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
            log_exceptions="always",
            disable_stack_trace={400, 401, 403, 404, 405, 409, 413, 422, 429},
        ),
        debug=settings.debug,
    )
    document_api_errors(app)
    document_query_parameters(app)
    app.state.settings = settings
    return app


def app_from_environment() -> Litestar:
    """Granian's factory (`marketplace serve`): each worker process builds the app from the
    environment the command prepared, logging as configured there."""
    from marketplace.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_format)
    return create_app(settings)
