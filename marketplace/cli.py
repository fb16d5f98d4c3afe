"""`marketplace` command: run, worker, migrate, demo-data, bootstrap-admin, fetch-meilisearch, search, ledger,
backup, restore."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from marketplace.config import Settings

log = logging.getLogger("marketplace")
DATABASE_NAME = "marketplace"


def _exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every embedded service we started is stopped in order."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


@contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Start the embedded PostgreSQL / Meilisearch for whatever the settings leave unconfigured,
    fill in their URLs, and stop them (and only them) on the way out."""
    from marketplace.db import SchemaAhead, ensure_database
    from marketplace.embedded import EmbeddedMeilisearch, EmbeddedPostgres

    with ExitStack() as stack:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.embedded_postgres:
            postgres = stack.enter_context(EmbeddedPostgres(settings.data_dir))
            settings.database_url = asyncio.run(ensure_database(postgres.url(), DATABASE_NAME))
            log.info("embedded PostgreSQL on %s", postgres.url())
        if settings.embedded_meilisearch:
            meili = stack.enter_context(EmbeddedMeilisearch(settings.data_dir))
            settings.meili_url, settings.meili_master_key = meili.url, meili.master_key()
            log.info("embedded Meilisearch on %s", settings.meili_url)
        elif not settings.meili_master_key:
            raise click.UsageError("MEILI_URL is set: set MEILI_MASTER_KEY too")
        try:
            yield settings
        except SchemaAhead as error:  # the command says which revisions, and exits 1
            raise click.ClickException(str(error)) from error


async def _load_demo(settings: Settings) -> bool:
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.demo import load_demo_data
    from marketplace.search.outbox import install_outbox_listeners

    install_outbox_listeners()  # the demo's published listings reach search through the outbox
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load_demo_data(session)
    finally:
        await engine.dispose()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Medical tech-transfer marketplace."""
    from marketplace.logs import configure_logging

    configure_logging(Settings().log_format, logging.DEBUG if verbose else logging.INFO)
    for noisy in ("alembic", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    _exit_on_sigterm()
    context = click.get_current_context(silent=True)
    if context is not None and context.invoked_subcommand == "serve":
        _share_metrics_between_processes(Settings())
    # Every command sees every index, e-mail kind and job (imported here: `--help` stays quick).
    from marketplace.wiring import wire

    wire()


def _share_metrics_between_processes(settings: Settings) -> None:
    """`serve`'s processes write their metrics into one folder (emptied at each start), so a scrape
    of any of them reports them all. prometheus_client reads the setting when it is first imported,
    so this runs before anything imports it (wire() does)."""
    figures = settings.data_dir / "metrics"
    shutil.rmtree(figures, ignore_errors=True)
    figures.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(figures)


def server_config(app, settings: Settings, **options):
    """uvicorn's configuration for the app. Forwarded headers (X-Forwarded-For) name the client only
    when they come from a proxy listed in TRUSTED_PROXIES; uvicorn would otherwise believe them from
    loopback, and anyone on the machine could pick the address that sign-in throttling counts."""
    import uvicorn

    trusted = settings.trusted_proxies.strip()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        # Logging is marketplace.logs' (structured, with the request id), which logs each request itself.
        **{"log_config": None, "access_log": False, **options},
    )


@main.command()
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 8000).")
def run(host: str | None, port: int | None) -> None:
    """Start services if needed, migrate, load demo data on first start, and serve."""
    import uvicorn

    from marketplace.app import create_app
    from marketplace.db import run_migrations

    settings = Settings()
    settings.host = host or settings.host
    settings.port = port or settings.port
    try:
        with services(settings):
            run_migrations(settings.database_url)
            if settings.demo_data and asyncio.run(_load_demo(settings)):
                log.info("demo data loaded; logins are listed in README.md")
            config = server_config(create_app(settings), settings, log_level="info")
            click.echo(f"Serving on http://{settings.host}:{settings.port}  (Ctrl-C stops everything)")
            uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    click.echo("Stopped.")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 8000).")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="App processes (default WEB_WORKERS).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Production serving: migrate, then the app on several Granian processes. The background jobs
    run in their own process (`marketplace worker`), never in these. On SIGTERM the app first drains
    (/ready answers 503 for DRAIN_SECONDS while it keeps serving), then each process stops accepting,
    finishes the requests it has accepted and shuts down."""
    from marketplace.db import run_migrations
    from marketplace.serving import serve as serve_app

    settings = Settings()
    with services(settings):
        run_migrations(settings.database_url)
        # The processes read everything from the environment; secrets generated now, once, not by
        # each process racing to create the file.
        os.environ.update(
            DATABASE_URL=settings.database_url,
            MEILI_URL=settings.meili_url,
            MEILI_MASTER_KEY=settings.meili_master_key,
            SECRET_KEY=settings.resolved_secret_key(),
            RUN_WORKER_IN_APP="false",
        )
        host, port, workers = host or settings.host, port or settings.port, workers or settings.web_workers
        click.echo(f"Serving on http://{host}:{port} with {workers} processes")
        serve_app(settings, host=host, port=port, workers=workers)


@main.command()
def worker() -> None:
    """Run the background jobs (outbox relay, reminders, digests) until stopped.

    On the embedded default these run inside `marketplace run`; this command is the separate
    process of the production shape (docker-compose.yml); start as many as the work needs, on any
    machine that reaches the database. SIGTERM lets the running jobs finish first."""
    from marketplace.worker import run_worker_until_signalled

    settings = Settings()
    with services(settings):
        asyncio.run(run_worker_until_signalled(settings))


@main.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    from marketplace.db import run_migrations

    with services(Settings()) as settings:
        run_migrations(settings.database_url)
    click.echo("Database is up to date.")


@main.command("demo-data")
def demo_data() -> None:
    """Load the demo organizations and users (only into an empty database)."""
    from marketplace.db import run_migrations

    with services(Settings()) as settings:
        run_migrations(settings.database_url)
        loaded = asyncio.run(_load_demo(settings))
    click.echo("Demo data loaded." if loaded else "The database already has organizations: nothing loaded.")


@main.command("bootstrap-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
@click.option("--platform-name", default="医企协同创新平台", show_default=True)
def bootstrap_admin(email: str, name: str, password: str, platform_name: str) -> None:
    """Create the platform organization and its first administrator on an empty production database."""
    from marketplace.accounts.organizations import OrganizationInput, organization_count
    from marketplace.accounts.services import AccountService
    from marketplace.db import make_engine, make_sessionmaker, run_migrations
    from marketplace.errors import DomainError

    async def bootstrap(settings: Settings) -> None:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if await organization_count(session):
                    raise click.ClickException("The database already has organizations.")
                try:
                    await AccountService(session).bootstrap_platform(
                        OrganizationInput(kind="platform", name_zh=platform_name, city="上海"),
                        email=email,
                        name=name,
                        password=password,
                    )
                except DomainError as error:  # e.g. a password shorter than the sign-in rules allow
                    problems = [f"{e.field}: {e.message % e.params}" for e in error.errors]
                    raise click.ClickException("; ".join(problems) or error.message % error.params) from error
        finally:
            await engine.dispose()

    with services(Settings()) as settings:
        run_migrations(settings.database_url)
        asyncio.run(bootstrap(settings))
    click.echo(f"Created the platform and its administrator {email}.")


@main.command("fetch-meilisearch")
def fetch_meilisearch() -> None:
    """Download (once, into the user cache) and verify the pinned Meilisearch binary."""
    from marketplace.embedded import ensure_binary

    click.echo(ensure_binary())


@main.group()
def search() -> None:
    """The search index: rebuild it from PostgreSQL, or check it against PostgreSQL."""


async def _with_search(settings: Settings, action):
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.search.engine import search_engine_for

    engine = make_engine(settings.database_url)
    try:
        async with search_engine_for(settings) as search_engine:
            await search_engine.wait_healthy()
            return await action(make_sessionmaker(engine), search_engine)
    finally:
        await engine.dispose()


def _indexes():
    """Every search index (listings, needs), as `wire` registered them."""
    from marketplace.search.index_settings import INDEXES

    return list(INDEXES.values())


RECORDS = {"listing": "published listing(s)", "need": "open public need(s)"}


@search.command("reindex")
def search_reindex() -> None:
    """Rebuild each search index (listings, needs) into a new index and swap it in; search keeps answering."""
    from marketplace.db import run_migrations
    from marketplace.search.reindex import ReindexBusy, reindex

    with services(Settings()) as settings:
        run_migrations(settings.database_url)
        for index in _indexes():
            try:
                report = asyncio.run(_with_search(settings, lambda s, e, index=index: reindex(s, e, index=index)))
            except ReindexBusy as busy:
                raise click.ClickException(str(busy)) from None
            click.echo(
                f"Rebuilt {report.index} with {report.documents} {RECORDS.get(index.entity_type, 'record(s)')} and "
                f"swapped it in; {report.requeued} recent change(s) queued again for the relay."
            )


@search.command("check")
@click.option("--show", default=10, show_default=True, help="How many ids of each kind of drift to list.")
def search_check(show: int) -> None:
    """Report drift between PostgreSQL and each search index; exit status 1 when any differs."""
    from marketplace.search.reindex import check

    drift = pending = False
    with services(Settings()) as settings:
        for index in _indexes():
            report = asyncio.run(_with_search(settings, lambda s, e, index=index: check(s, e, index=index)))
            records = RECORDS.get(index.entity_type, "record(s)")
            click.echo(f"{report.index}: {report.documents} document(s); PostgreSQL: {report.listings} {records}")
            click.echo(f"missing: {len(report.missing)}  extra: {len(report.extra)}  outdated: {len(report.outdated)}")
            for name in ("missing", "extra", "outdated"):
                ids = getattr(report, name)
                if ids and show:
                    click.echo(f"  {name}: {', '.join(ids[:show])}{' …' if len(ids) > show else ''}")
            drift, pending = drift or report.drift, report.pending
    click.echo(f"outbox: {report.pending} pending, {report.failing} of them failed at least once")
    if drift:
        hint = "the relay has not sent everything yet; " if pending else ""
        click.echo(f"Drift: {hint}`marketplace search reindex` rebuilds the index.", err=True)
        sys.exit(1)
    click.echo("The indexes match PostgreSQL.")


@contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Only PostgreSQL (the embedded one when DATABASE_URL is unset, started unless a running app
    already serves it), for commands that need no search."""
    from marketplace.db import ensure_database
    from marketplace.embedded import EmbeddedPostgres

    with ExitStack() as stack:
        if settings.embedded_postgres:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            postgres = EmbeddedPostgres(settings.data_dir)
            # `marketplace run` may hold it: then use that server (a backup of the running system).
            running = postgres.running_url()
            if running is None:
                stack.enter_context(postgres)
            settings.database_url = asyncio.run(ensure_database(running or postgres.url(), DATABASE_NAME))
        yield settings


@main.command("backup")
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty folder (default DATA_DIR/backups/<UTC time>).",
)
def backup_command(folder: Path | None) -> None:
    """Write a consistent backup: the whole database (pg_dump), the uploaded files and a manifest
    with their checksums and the schema revision. The running app keeps serving meanwhile."""
    from marketplace.backup import BackupError, backup, default_folder

    with database(Settings()) as settings:
        target = folder or default_folder(settings)
        try:
            manifest = asyncio.run(backup(settings, target))
        except BackupError as error:
            raise click.ClickException(str(error)) from None
    rows = sum(manifest.tables.values())
    click.echo(
        f"Backed up {rows} row(s) in {len(manifest.tables)} tables at revision {manifest.schema_revision} and "
        f"{len(manifest.files) - 1} file(s) into {target}"
    )


@main.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup into an empty data folder (or the empty database DATABASE_URL names): check
    every checksum first, restore in one transaction, migrate to this code's head, rebuild search."""
    from marketplace.backup import BackupError, restore

    with services(Settings()) as settings:
        try:
            manifest = asyncio.run(restore(settings, folder))
        except BackupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {sum(manifest.tables.values())} row(s) from the backup of {manifest.created_at} "
        f"(revision {manifest.schema_revision}); search rebuilt from PostgreSQL."
    )


@main.group()
def ledger() -> None:
    """The revenue-sharing ledger: check its kept balances against the journal."""


async def _reconcile(settings: Settings):
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.ledger.services import LedgerService

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            ledger = LedgerService(session)
            checked, differences = await ledger.reconcile()
            return checked, differences, await ledger.unbalanced_entries()
    finally:
        await engine.dispose()


@ledger.command("reconcile")
@click.option("--show", default=10, show_default=True, help="How many differences to list.")
def ledger_reconcile(show: int) -> None:
    """Recompute every balance from the postings; exit status 1 when any kept balance differs
    (or, which PostgreSQL refuses at commit, an entry does not balance)."""
    with database(Settings()) as settings:
        checked, differences, unbalanced = asyncio.run(_reconcile(settings))
    click.echo(f"{checked} balance(s) recomputed from the postings; {len(differences)} differ.")
    for d in differences[:show]:
        click.echo(f"  account {d.account_id} {d.asset}: kept {d.kept}, from the postings {d.from_postings}")
    for entry_id in unbalanced[:show]:
        click.echo(f"  entry {entry_id} does not balance")
    if differences or unbalanced:
        click.echo("Difference: the kept balances do not match the journal.", err=True)
        sys.exit(1)
    click.echo("Every balance matches the journal.")
