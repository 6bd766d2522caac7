"""A curator (and a member who suggests) in Korean, Japanese and Chinese, end to end: a member
refused /curate for want of the curator role, /curate add
(refused, then published), /curate import of a file with broken rows (the report), /suggest, the
review queue (a draft card, its buttons and its forms), /curate watch list, /curate log, /curate
edit's form and /settings, each answer within Discord's limits and holding no English word beyond
what the corpus, the catalogs or the curator's own typing account for (``tests/e2e/english.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from functools import partial
from typing import Any

import pytest

from bot.discord.client import PeninsulaBot
from bot.i18n import gettext
from bot.services.validation import host_of
from testing.fake_discord import FakeAttachment, FakeDiscord, FakeGuild, FakeMember, InteractionResult
from testing.fake_discord.checks import check_message_payload, check_modal, walk_components
from tests.conftest import Database

from .bot_process import Staff, load_sample, running_bot
from .english import Allowed, allowed_in, leftover_english
from .test_dispatcher import curator

READERS = ("ko", "ja", "zh-CN")
EXTENSIONS = ("cogs.curation", "cogs.settings", "cogs.suggest", "cogs.alerts")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
LAUNCH = {
    "kind": "missile_launch",
    "title": "Hwasong-19 launch",
    "summary": "A solid-fuel ICBM flew for 86 minutes.",
    "source_url": "https://example.org/hwasong-19",
}


@pytest.fixture
async def bot(fake_discord: FakeDiscord, database: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(database)
    staff = Staff(fake_discord, "Home")
    async with running_bot(
        fake_discord, database, home_guild_ids=[staff.guild.id], extensions=EXTENSIONS
    ) as client:
        client.staff = staff  # type: ignore[attr-defined]
        yield client


def _typed(options: Mapping[str, object]) -> list[str]:
    """What the user typed: each option's name and value (theirs, in any language), and the site
    of an address they gave (a source's publisher when none is named)."""
    typed = [str(x) for pair in options.items() for x in pair]
    return typed + [host_of(v) for v in typed if v.startswith("https://")]


def _pages(result: InteractionResult) -> list[dict[str, Any]]:
    components = list(walk_components(result.components))
    return [{**e, "content": result.content, "components": components} for e in result.embeds or [{}]]


def _english(result: InteractionResult, allowed: Allowed, typed: Iterable[str] = ()) -> list[str]:
    """The words of an answer no one accounts for (and the answer within Discord's limits)."""
    payload = {"content": result.content, "embeds": result.embeds, "components": result.components}
    assert check_message_payload(payload, "answer") == []
    return sorted({w for page in _pages(result) for w in leftover_english(page, allowed, typed=typed)})


def _modal_english(result: InteractionResult, allowed: Allowed) -> list[str]:
    """A form's title, labels and placeholders: within Discord's limits, and translated."""
    assert result.callback_type == 9 and result.modal is not None
    modal = result.modal
    assert check_modal(modal) == [], modal
    inputs = [c for row in modal["components"] for c in row.get("components", [row.get("component", {})])]
    texts = [str(modal["title"])] + [str(i.get("label", "")) for i in inputs]
    texts += [str(i["placeholder"]) for i in inputs if i.get("placeholder")]
    assert all(CJK.search(t) for t in texts[:2]), texts
    return leftover_english({"content": "\n".join(texts)}, allowed)


def _button(result: InteractionResult, label: str) -> str:
    found = [c for c in walk_components(result.components) if c.get("label", "").startswith(label)]
    assert found, (label, [c.get("label") for c in walk_components(result.components)])
    return str(found[0]["custom_id"])


async def _answer(
    fake: FakeDiscord,
    home: FakeGuild,
    allowed: Allowed,
    locale: str,
    name: str,
    options: dict[str, Any],
    who: FakeMember,
    typed: Iterable[str] = (),
    **kw: Any,
) -> InteractionResult:
    """``/name`` run by ``who``: a private answer, in ``locale``, with no English left beyond
    what was typed (the options, and ``typed``: what a file held)."""
    result = await fake.invoke(name, options, guild=home, user=who, **kw)
    assert result.ephemeral, (name, kw, result.content)
    left = _english(result, allowed, [*_typed(options), *typed])
    assert not left, f"/{name} {kw.get('subcommand', '')} in {locale}: English left: {left}"
    assert CJK.search(result.content + json.dumps(result.embeds, ensure_ascii=False))
    return result


async def test_a_curator_works_in_korean_japanese_and_chinese(
    fake_discord: FakeDiscord, bot: PeninsulaBot, database: Database
) -> None:
    staff: Staff = bot.staff  # type: ignore[attr-defined]
    home = staff.guild
    await bot.services.watch.add(curator(home.id), "https://example.org/wire.atom", "atom", "Example wire")
    written = _typed(LAUNCH)
    for n, locale in enumerate(READERS, 1):
        allowed = await allowed_in(database, locale)
        for member in (staff.admin, staff.reader):
            member.user.locale = locale

        invoke = partial(_answer, fake_discord, home, allowed, locale)

        # A member who is no curator is told so in their language (the check asks the service).
        await invoke("curate", {}, staff.reader, subcommand="queue", bypass_default_permissions=True)
        bad = {**LAUNCH, "date": "2024-13"}
        refused = await invoke("curate", bad, staff.admin, subcommand="add")
        assert "2024-13" in refused.content and "Invalid" not in refused.content
        published = await invoke("curate", {**LAUNCH, "date": "2024-10-31"}, staff.admin, subcommand="add")
        event_id = int(re.findall(r"#(\d+)", published.content)[0])

        rows = [{"title": "Broken row", "date": "2017-13-01"}, {"title": 5}]
        upload = FakeAttachment("events.json", json.dumps(rows).encode(), "application/json")
        in_file = ["title", "date", "Broken row", "events.json"]
        report = await invoke("curate", {"file": upload}, staff.admin, in_file, subcommand="import")
        assert "2017-13-01" in report.content and "nothing was written" not in report.content

        suggestion = {
            "title": f"Test launch {n}",
            "date": "2024-11-05",
            "summary": "Reported.",
            "source_url": LAUNCH["source_url"],
        }
        thanks = await invoke("suggest", suggestion, staff.reader)
        written += _typed(suggestion)
        draft_id = int(re.findall(r"#(\d+)", thanks.content)[0])

        # The draft card shows the item as it was written (here: as the member typed it).
        queue = await invoke("curate", {}, staff.admin, _typed(suggestion), subcommand="queue")
        assert str(draft_id) in queue.embeds[0]["title"]
        labels = {c.get("label") for c in walk_components(queue.components)}
        assert {gettext(locale, "Publish"), gettext(locale, "Reject"), gettext(locale, "Next ▶")} <= labels
        edit_form = await fake_discord.press(queue, _button(queue, gettext(locale, "Edit")), user=staff.admin)
        assert not _modal_english(edit_form, allowed)
        reject_form = await fake_discord.press(
            queue, _button(queue, gettext(locale, "Reject")), user=staff.admin
        )
        assert not _modal_english(reject_form, allowed)
        rejected = await fake_discord.submit_modal(reject_form, {"reason": "중복 보도 / 重複 / 重复"})
        assert queue.content and not _english(queue, allowed, _typed(suggestion))
        assert rejected.callback_type in (6, 7)

        await invoke(
            "curate", {}, staff.admin, ["Example wire"], subcommand="watch list"
        )  # its name as added
        log = await invoke("curate", {}, staff.admin, written, subcommand="log")  # titles of what was written
        assert str(event_id) in log.embeds[0]["description"]
        form = await fake_discord.invoke(
            "curate", {"id": str(event_id)}, subcommand="edit", guild=home, user=staff.admin
        )
        assert not _modal_english(form, allowed)
        role = [bot.services.policy.curator_role_name]  # a role's name, as the server wrote it
        saved = await invoke("settings", {"timezone": "Asia/Seoul"}, staff.admin, role, subcommand="timezone")
        assert "Asia/Seoul" in saved.content


async def test_alerts_commands_speak_korean_japanese_and_chinese(
    fake_discord: FakeDiscord, bot: PeninsulaBot, database: Database
) -> None:
    staff: Staff = bot.staff  # type: ignore[attr-defined]
    home, admin = staff.guild, staff.channel_manager
    for locale in READERS:
        allowed = await allowed_in(database, locale)
        admin.user.locale = locale
        invoke = partial(_answer, fake_discord, home, allowed, locale)
        channel = staff.channel(READERS.index(locale))
        where = {"channel": channel}
        none = await invoke("alerts", where, admin, subcommand="pause")  # nothing to pause yet
        assert f"<#{channel.id}>" in none.content
        await invoke("alerts", {**where, "programs": "icbm"}, admin, subcommand="subscribe")
        again = await invoke("alerts", {**where, "programs": "icbm"}, admin, subcommand="subscribe")
        assert f"<#{channel.id}>" in again.content  # the duplicate's refusal, in the reader's language
        await invoke("alerts", where, admin, subcommand="pause")
        await invoke("alerts", where, admin, subcommand="resume")
        await invoke("alerts", where, admin, subcommand="test")
        await invoke(
            "alerts", {}, admin, [home.name, "icbm"], subcommand="list"
        )  # the server, the slugs given
    # The sample alert itself is written in the server's language (its /settings locale here).
    await bot.services.guild_settings.set_locale(curator(home.id), "ja")
    await fake_discord.invoke(
        "alerts", {"channel": staff.channel(3)}, subcommand="test", guild=home, user=admin
    )
    [sample] = fake_discord.channel_messages(staff.channel(3).id)
    assert sample.embeds[0]["title"].endswith(gettext("ja", "Test alert from Peninsula Brief"))
