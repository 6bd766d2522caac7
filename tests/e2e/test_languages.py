"""The reader's language end to end: an ephemeral reply in the user's Discord language, a public one
in the server's ``/settings locale`` or else its Discord language, through real discord.py."""

from __future__ import annotations

import re

from discord import app_commands

from bot.discord.client import PeninsulaBot
from bot.discord.errors import user_message
from bot.i18n import gettext
from bot.services.access import Caller
from testing.fake_discord import InteractionResult

from .test_documents import World, bot, buttons, world

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
