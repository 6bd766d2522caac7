"""The reader's language end to end: an ephemeral reply in the user's Discord language, a public one
in the server's ``/settings locale`` or else its Discord language, through real discord.py."""

from __future__ import annotations

import re

from discord import app_commands

from bot import models
from bot.discord.client import PeninsulaBot
from bot.discord.errors import user_message
from bot.i18n import gettext
from bot.services.access import Caller
from testing.fake_discord import FakeDiscord, InteractionResult
from testing.fake_discord.checks import walk_components
from tests.conftest import Database

from .bot_process import Staff
from .test_dispatcher import curator, event_input, one_alert_sent, wait_deliveries
from .test_documents import World, bot, buttons, text_of, world

__all__ = ["bot", "world"]


def footer(result: InteractionResult) -> str:
    return str(result.embeds[0].get("footer", {}).get("text", ""))


async def test_a_private_reply_speaks_the_users_language(world: World, bot: PeninsulaBot) -> None:
    world.alice.user.locale = "ko"
    first = await world.fake.invoke(
        "position", {"party": "DPRK", "private": True}, guild=world.home, user=world.alice
    )
    assert first.ephemeral
    match = re.match(r"1/(\d+)쪽", footer(first))
    assert match, footer(first)
    labels = buttons(first)
    assert {"◀ 이전", "다음 ▶"} <= set(labels) and "Next ▶" not in labels
    turned = await world.fake.press(first, str(labels["다음 ▶"]["custom_id"]), user=world.alice)
    assert turned.callback_type == 7
    assert footer(first).startswith(f"2/{match[1]}쪽")


async def test_a_public_reply_follows_the_server(world: World, bot: PeninsulaBot) -> None:
    world.home.locale = "ja"  # the server's Discord language; alice reads Korean
    world.alice.user.locale = "ko"
    public = await world.fake.invoke("position", {"party": "DPRK"}, guild=world.home, user=world.alice)
    assert not public.ephemeral
    assert re.match(r"1/\d+ページ", footer(public)), footer(public)
    assert {"◀ 前へ", "次へ ▶"} <= set(buttons(public))
    # /settings locale wins over the server's Discord language; a private reply stays the reader's.
    admin = Caller(7, world.home.id, frozenset({"manage_guild"}))
    await world.services.guild_settings.set_locale(admin, "zh-CN")
    chosen = await world.fake.invoke("position", {"party": "DPRK"}, guild=world.home, user=world.alice)
    assert re.match(r"第1/\d+页", footer(chosen)), footer(chosen)
    private = await world.fake.invoke(
        "position", {"party": "DPRK", "private": True}, guild=world.home, user=world.alice
    )
    assert re.match(r"1/\d+쪽", footer(private)), footer(private)
    await world.services.guild_settings.set_locale(admin, "auto")
    back = await world.fake.invoke("position", {"party": "DPRK"}, guild=world.home, user=world.bob)
    assert re.match(r"1/\d+ページ", footer(back)), footer(back)


async def test_an_english_or_traditional_chinese_reader_gets_english(world: World, bot: PeninsulaBot) -> None:
    world.alice.user.locale = "zh-TW"
    first = await world.fake.invoke(
        "position", {"party": "DPRK", "private": True}, guild=world.home, user=world.alice
    )
    assert footer(first).startswith("Page 1/")


def test_errors_are_written_in_the_readers_language() -> None:
    missing = app_commands.MissingPermissions(["manage_guild"])
    assert user_message(missing, locale="ko") == "이 작업에는 Manage Server 권한이 필요합니다."
    assert user_message(missing, locale="en") == "You need the Manage Server permission to do this."
    generic = user_message(RuntimeError("boom"), locale="ja")
    assert generic == gettext("ja", "Something went wrong on our side; it has been logged. Please try again.")
    assert generic.startswith("こちら側で")


async def test_an_event_in_korean_japanese_and_chinese(world: World, bot: PeninsulaBot) -> None:
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    event = await world.services.curation.create(caller, event_input(), alert=False)
    expected = {
        "ko": ("날짜", "2024년 10월 31일", "미사일 발사", "출처", "{n}쪽"),
        "ja": ("日付", "2024年10月31日", "ミサイル発射", "出典", "{n}ページ"),
        "zh-CN": ("日期", "2024年10月31日", "导弹发射", "来源", "第{n}页"),
    }
    for locale, (date_label, date, kind, sources, _page) in expected.items():
        world.alice.user.locale = locale
        result = await world.fake.invoke(
            "event", {"id": str(event.id), "private": True}, guild=world.home, user=world.alice
        )
        [embed] = result.embeds
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields[date_label] == date and kind in fields[{"ko": "종류", "ja": "種類"}.get(locale, "类型")]
        assert sources in fields and "Date" not in fields
        [link] = [c for c in walk_components(result.components) if c.get("style") == 5]
        assert link["label"] == sources
        # The untranslated event keeps its English title and summary whole, never half translated.
        assert embed["title"] == event.title and embed["description"] == event.summary


async def test_a_timeline_speaks_the_readers_language(world: World, bot: PeninsulaBot) -> None:
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    await world.services.curation.create(caller, event_input(), alert=False)
    world.alice.user.locale = "ja"
    result = await world.fake.invoke(
        "timeline", {"kind": "missile_launch", "private": True}, guild=world.home, user=world.alice
    )
    [embed] = result.embeds
    assert embed["title"] == "年表"
    assert embed["author"]["name"] == "種類: ミサイル発射"
    assert embed["description"].startswith("**2024年10月31日** · Hwasong-19 launch")
    assert embed["footer"]["text"].startswith("1ページ")


async def test_alerts_follow_the_servers_language(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    staff = Staff(fake_discord)
    staff.guild.locale = "ko"  # the server's Discord language, known from the gateway
    async with one_alert_sent(fake_discord, sqlite_db, staff) as client:
        await client.services.guild_settings.set_locale(curator(staff.guild.id), "ja")
        await client.services.curation.create(curator(staff.guild.id), event_input("Second launch"))
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 2)
    first, second = fake_discord.channel_messages(staff.channel(0).id)
    assert first.content.startswith("**새 사건:** Hwasong-19 launch")
    assert {f["name"] for f in first.embeds[0]["fields"]} >= {"날짜", "종류", "출처"}
    assert second.content.startswith("**新しい出来事:** Second launch")
    assert second.embeds[0]["footer"]["text"].startswith("出来事 #")


async def test_the_time_zone_changes_a_shown_time(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    staff = Staff(fake_discord)
    async with one_alert_sent(fake_discord, sqlite_db, staff):
        owner = staff.guild.members[staff.guild.owner_id]
        before = await fake_discord.invoke("alerts", subcommand="list")
        assert re.search(r"Last alert: \d+ \w+ \d{4} \d\d:\d\d UTC \(<t:\d+:R>\)", text_of(before))
        saved = await fake_discord.invoke("settings", {"timezone": "Asia/Seoul"}, subcommand="timezone")
        assert "Asia/Seoul" in saved.content
        after = await fake_discord.invoke("alerts", subcommand="list")
        assert re.search(r"Last alert: \d+ \w+ \d{4} \d\d:\d\d KST \(<t:\d+:R>\)", text_of(after))
        owner.user.locale = "zh-CN"  # /alerts list is ephemeral: the reader's language
        chinese = await fake_discord.invoke("alerts", subcommand="list")
        assert re.search(r"最近提醒：\d{4}年\d+月\d+日 \d\d:\d\d KST", text_of(chinese))


async def test_a_refusal_speaks_the_readers_language(world: World, bot: PeninsulaBot) -> None:
    world.alice.user.locale = "ko"
    swapped = await world.fake.invoke(
        "timeline", {"since": "2020", "until": "2019-06"}, guild=world.home, user=world.alice
    )
    assert swapped.ephemeral
    assert swapped.content == (
        "입력이 올바르지 않습니다 — since: 2020이(가) until(2019-06)보다 뒤입니다. "
        "둘을 바꾸거나 범위를 넓히세요"
    )
    world.alice.user.locale = "ja"
    bad_date = await world.fake.invoke("brief", {"since": "2019-13"}, guild=world.home, user=world.alice)
    assert bad_date.content == "入力が正しくありません — since: “2019-13”は実在する日付ではありません"
    world.alice.user.locale = "zh-CN"
    unknown = await world.fake.invoke("talks", {"track": "zzqx"}, guild=world.home, user=world.alice)
    assert unknown.ephemeral and unknown.content.startswith("没有与“zzqx”匹配的会谈机制。")
    world.alice.user.locale = "en-US"
    english = await world.fake.invoke("talks", {"track": "zzqx"}, guild=world.home, user=world.alice)
    assert english.content.startswith("No talks track matches “zzqx”.")
