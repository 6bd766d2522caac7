"""``python -m bot watch add|list|remove|pause|resume|run-once``: the operator's side of the source watch.

The operator acts for the shared corpus (sources of no guild), like a home guild's curators.
"""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.models import WATCH_FORMATS


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    watch = sub.add_parser(
        "watch", help="watched sources of the shared corpus: add, list, remove, pause, resume, run-once"
    )
    actions = watch.add_subparsers(dest="watch_action", required=True)
    add = actions.add_parser("add", help="watch a feed; its new items become drafts in the review queue")
    add.add_argument("url")
    add.add_argument("--format", choices=WATCH_FORMATS, default="atom")
    add.add_argument("--name", required=True, help="the label drafts carry as their publisher")
    add.add_argument("--interval", type=int, help="seconds between two checks (default: WATCH_INTERVAL)")
    actions.add_parser("list", help="every source with its last check, last new item and last error")
    remove = actions.add_parser("remove", help="stop watching a source (its pending drafts go too)")
    remove.add_argument("source", type=int, help="the source's number, as `watch list` shows it")
    for action, words in (
        ("pause", "stop checking a source for now"),
        ("resume", "check a paused source again"),
    ):
        one = actions.add_parser(action, help=words)
        one.add_argument("source", type=int, help="the source's number, as `watch list` shows it")
    actions.add_parser("run-once", help="check every source now and print what was drafted")


def _when(value: object) -> str:
    return "never" if value is None else str(value)[:19].replace("T", " ")


async def cmd_watch(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import runtime
    from bot.services.access import Caller

    caller = Caller.system()
    async with runtime(settings, operator=True) as rt:
        watch = rt.services.watch
        if args.watch_action == "add":
            source = await watch.add(caller, args.url, args.format, args.name, interval=args.interval)
            print(f"watching #{source.id} {source.name} ({source.format}) {source.url}")
        elif args.watch_action == "list":
            sources = await watch.sources(caller)
            if not sources:
                print("no sources are watched")
            for s in sources:
                state = "paused" if s.paused else f"next check {_when(s.next_check_at)}"
                print(
                    f"#{s.id} {s.name} ({s.format}) {s.url}\n"
                    f"    last check {_when(s.last_checked_at)} · last new item {_when(s.last_new_at)}"
                    f" · {state}" + (f"\n    last error: {s.last_error}" if s.last_error else "")
                )
        elif args.watch_action == "remove":
            source = await watch.remove(caller, args.source)
            print(f"no longer watching #{source.id} {source.name}")
        elif args.watch_action in ("pause", "resume"):
            source = await watch.set_paused(caller, args.source, args.watch_action == "pause")
            print(f"{args.watch_action}d #{source.id} {source.name}")
        else:
            results = await watch.run_once()
            for r in results:
                if r.error:
                    print(f"#{r.source.id} {r.source.name}: failed: {r.error}")
                    continue
                print(f"#{r.source.id} {r.source.name}: {len(r.drafted)} new draft(s)")
                for d in r.drafted:
                    dup = f" (possible duplicate of #{d.duplicate_of})" if d.duplicate_of else ""
                    print(f"    draft #{d.id} {d.occurred_on} {d.kind}: {d.title}{dup}")
            if not results:
                print("no sources to check")
            return 1 if any(r.error for r in results) else 0
    return 0
