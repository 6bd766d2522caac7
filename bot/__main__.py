"""``python -m bot``: run the bot (default) or one of the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from bot import __version__, watch_cli
from bot.config import Settings, SettingsError, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")

HEALTHCHECK_TIMEOUT = 4.0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="peninsula-brief", description="Peninsula Brief, a Discord bot on the DPRK."
    )
    p.add_argument("--version", action="version", version=f"peninsula-brief {version()}")
    sub = p.add_subparsers(dest="command")
    sub.add_parser(
        "run", help="migrate, seed when empty, serve the web surface and connect to Discord (default)"
    )
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument(
        "revision", nargs="?", help="target revision (upgrade: default head; downgrade: required)"
    )
    db.add_argument(
        "--yes", action="store_true", help="downgrade with no revision: drop every table (all data) to base"
    )
    sub.add_parser("seed", help="load the curated corpus in data/ (idempotent)")
    imp = sub.add_parser("import", help="import events from a file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=["native", "cns", "csis"], default="native")
    imp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    exp = sub.add_parser("export", help="export every event (with its scope)")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    con = sub.add_parser("console", help="run slash commands locally and print the replies (no token needed)")
    con.add_argument("line", nargs="?", help='for example "/program name:sohae"; none opens a prompt')
    con.add_argument("--json", action="store_true", help="print the exact message payload Discord would get")
    con.add_argument(
        "--guild",
        type=int,
        default=None,
        help="act as a member of this guild id (needed by /curate, /alerts, /settings)",
    )
    con.add_argument(
        "--member-permissions",
        default="",
        metavar="NAMES",
        help="the member's guild-wide permissions, comma-separated Discord names, for example "
        "manage_guild (/curate, /settings) or manage_channels (/alerts); default none",
    )
    con.add_argument(
        "--member-roles",
        default="",
        metavar="IDS",
        help="the member's role ids, comma-separated (a curator role)",
    )
    watch_cli.add_parser(sub)
    sub.add_parser("sync", help="sync the slash commands with Discord now")
    web = sub.add_parser("web", help="serve only the web surface (health, metrics, feed, API)")
    web.add_argument("--host", help="address to listen on (default: WEB_HOST)")
    web.add_argument("--port", type=int, help="port to listen on (default: WEB_PORT)")
    sub.add_parser(
        "healthcheck",
        help="exit 0 when this machine's web surface answers /healthz (container health checks)",
    )
    return p


def version() -> str:
    try:
        return metadata.version("peninsula-brief")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return __version__


async def cmd_db(settings: Settings, action: str, revision: str | None, *, yes: bool = False) -> int:
    from bot import db
    from bot.runtime import STARTUP_LOCK, runtime

    if action == "downgrade" and revision is None and not yes:
        print(
            "db downgrade needs a revision (for example -1, or one `db current` printed); to drop "
            "every table and all their data, run `db downgrade base` or add --yes. Nothing was changed.",
            file=sys.stderr,
        )
        return 2
    async with runtime(settings, migrate=False, seed_if_empty=False) as rt:
        async with db.exclusive(rt.engine, STARTUP_LOCK):  # never beside a starting bot's migration
            if action == "upgrade":
                await db.upgrade(rt.engine, revision or "head")
            elif action == "downgrade":
                await db.downgrade(rt.engine, revision or "base")
        print(await db.current_revision(rt.engine) or "(empty database)")
    return 0


async def cmd_seed(settings: Settings) -> int:
    from bot.runtime import runtime
    from bot.services.seed import PARTS, SECTIONS, seed

    async with runtime(settings, seed_if_empty=False) as rt:
        report = await seed(rt.sessionmaker)
    for section in (*SECTIONS[:2], *PARTS, *SECTIONS[2:]):
        print(
            f"{section:>10}: {report.created[section]} created, {report.updated[section]} updated, "
            f"{report.unchanged[section]} unchanged"
        )
    return 0


async def cmd_import(settings: Settings, path: Path, fmt: str, dry_run: bool) -> int:
    from rich.progress import Progress

    from bot.runtime import runtime
    from bot.services.access import Caller
    from bot.services.importing import import_file

    # Imported events link to programs, parties and tracks: an empty database gets the corpus first.
    async with runtime(settings, operator=True) as rt:
        with Progress(transient=True) as progress:
            task = progress.add_task(f"Importing {path.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await import_file(
                rt.sessionmaker,
                await asyncio.to_thread(path.read_bytes),
                fmt,
                caller=Caller.system(),
                policy=rt.services.policy,
                dry_run=dry_run,
                progress=advance,
                filename=path.name,
            )
    print(report.summary())
    for problem in report.problems[:50]:
        print(f"  {problem}")
    if len(report.problems) > 50:
        print(f"  … and {len(report.problems) - 50} more")
    for note in report.notes_shown(50):
        print(f"  {note}")
    return 1 if report.problems else 0


async def cmd_export(settings: Settings, fmt: str, output: Path | None) -> int:
    from bot.runtime import runtime
    from bot.services.export import export_events

    async with runtime(settings, seed_if_empty=False) as rt:
        data = await export_events(rt.sessionmaker, fmt)
    if output is None:
        sys.stdout.write(data)
    else:
        await asyncio.to_thread(output.write_text, data, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


async def cmd_run(settings: Settings, *, sync_only: bool = False) -> int:
    import aiohttp
    from aiohttp import web

    from bot.discord.client import PeninsulaBot
    from bot.discord_endpoints import configure_endpoints
    from bot.runtime import runtime

    token = settings.token()
    if not token:
        return 2
    async with runtime(settings) as rt:
        configure_endpoints(settings.discord_api_base, settings.discord_gateway_url)
        services = rt.services
        web_runner: web.AppRunner | None = None
        try:
            async with aiohttp.ClientSession() as http:
                bot = PeninsulaBot(
                    settings=settings,
                    services=services,
                    http_session=http,
                    sync_commands=not sync_only,
                    freeze_heap=True,
                )
                async with bot:
                    if sync_only:
                        await bot.login(token)  # login runs setup_hook: the cogs load, the tree is built
                        await bot.sync_if_changed(force=True)
                        print("commands synced")
                        return 0
                    loop = asyncio.get_running_loop()
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        with contextlib.suppress(NotImplementedError):
                            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
                    if settings.web_enabled:
                        from bot.web import app_for, gateway_readiness, start_web

                        web_app = app_for(
                            settings,
                            services,
                            readiness=gateway_readiness(rt.sessionmaker, bot),
                            gateway_latency=lambda: bot.latency,
                        )
                        web_runner = await start_web(web_app, settings.web_host, settings.web_port)
                    await bot.start(token)
        finally:
            if web_runner is not None:
                from bot.web import stop_web

                await stop_web(web_runner)
    return 0


def dispatch(settings: Settings, args: argparse.Namespace) -> int | None:
    """Run the command ``args`` names; None when there is no such command."""
    command = args.command or "run"
    if command == "run":
        return asyncio.run(cmd_run(settings))
    if command == "sync":
        return asyncio.run(cmd_run(settings, sync_only=True))
    if command == "db":
        return asyncio.run(cmd_db(settings, args.action, args.revision, yes=args.yes))
    if command == "seed":
        return asyncio.run(cmd_seed(settings))
    if command == "import":
        return asyncio.run(cmd_import(settings, args.file, args.format, args.dry_run))
    if command == "export":
        return asyncio.run(cmd_export(settings, args.format, args.output))
    if command == "console":
        return cmd_console(settings, args)
    if command == "watch":
        return asyncio.run(watch_cli.cmd_watch(settings, args))
    if command == "healthcheck":
        return cmd_healthcheck(settings)
    if command == "web":
        from bot.web import serve

        return asyncio.run(serve(settings))
    return None


def cmd_healthcheck(settings: Settings) -> int:
    """GET /healthz on the local web surface; one line and exit 1 when it does not answer 200."""
    import urllib.request

    if not settings.web_enabled:
        print("unhealthy: the web surface is off (WEB_ENABLED=false)", file=sys.stderr)
        return 1
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "::", "") else settings.web_host  # noqa: S104
    url = f"http://{host}:{settings.web_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTHCHECK_TIMEOUT) as response:
            status = response.status
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


def cmd_console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.discord.command_line import UsageError
    from bot.discord.console import ConsoleMember, permissions_from
    from bot.discord.console import main as console_main

    try:
        member = ConsoleMember(
            permissions=permissions_from(args.member_permissions),
            role_ids=tuple(int(r) for r in args.member_roles.replace(" ", "").split(",") if r),
        )
    except (UsageError, ValueError) as exc:
        print(f"--member-permissions / --member-roles: {exc}", file=sys.stderr)
        return 2
    return console_main(settings, args.line, as_json=args.json, guild_id=args.guild, member=member)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides: dict[str, object] = {}
    if args.command == "web":  # flags beat the environment
        overrides = {k: v for k, v in (("web_host", args.host), ("web_port", args.port)) if v is not None}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format, secrets=settings.secrets())
    command = args.command or "run"
    if command in ("run", "sync") and not settings.token():
        print(
            "DISCORD_TOKEN is not set: set it to run the bot, or try it offline with "
            '`python -m bot console "/help"`.',
            file=sys.stderr,
        )
        return 2
    try:
        result = dispatch(settings, args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file or the database that is not there: the operator can fix it
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the operator gets one line; the details go to the log
        from bot.discord.errors import user_message

        print(f"error: {user_message(exc, context=f'python -m bot {command}')}", file=sys.stderr)
        return 1
    if result is None:
        parser().print_help()
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
