"""The renderer keeps every Discord limit and shortens visibly, never silently or mid-word."""

from __future__ import annotations

import datetime as dt
import re

import discord
import pytest

from bot.discord.render.choices import choices
from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.events import event_embed, event_line
from bot.discord.render.pages import search_embed
from bot.discord.render.reply import Reply
from bot.discord.render.text import join_lines, link, truncate
from bot.outbox.payload import alert_payload
from bot.services.catalog import Choice
from bot.services.search import SearchPage
from bot.services.views import EventView, Ref, SourceView


def event(**kw: object) -> EventView:
    base: dict[str, object] = {
        "id": 7,
        "external_id": None,
        "title": "Unha-3 places a satellite in orbit",
        "summary": "The first North Korean satellite to reach orbit.",
        "occurred_on": dt.date(2012, 12, 12),
        "precision": "day",
        "kind": "satellite_launch",
        "significance": 4,
        "status": "published",
        "guild_id": None,
        "revision": 1,
        "programs": (Ref("space-launch", "Space launch"),),
        "actors": (Ref("dprk", "North Korea"),),
        "sources": (SourceView("CSIS", "Database", dt.date(2013, 1, 1), "month", "https://example.org/a"),),
    }
    base.update(kw)
    return EventView(**base)  # type: ignore[arg-type]


def within_limits(embed: discord.Embed) -> None:
    data = embed.to_dict()
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "")) <= 4096
    assert len(data.get("fields", [])) <= 25
    for f in data.get("fields", []):
        assert 1 <= len(f["name"]) <= 256 and 1 <= len(f["value"]) <= 1024
    assert len(data.get("footer", {}).get("text", "")) <= 2048
    assert len(data.get("author", {}).get("name", "")) <= 256
    assert len(embed) <= 6000


def test_truncate_keeps_short_text() -> None:
    assert truncate("Punggye-ri", 10) == "Punggye-ri"
    assert truncate("", 5) == ""


def test_truncate_cuts_at_a_word_with_a_marker() -> None:
    text = "North Korea conducts its first underground nuclear test"
    cut = truncate(text, 30)
    assert cut == "North Korea conducts its…"
    assert len(cut) <= 30
    assert text.startswith(cut[:-1])


@pytest.mark.parametrize("limit", [5, 17, 64, 99])
def test_truncate_never_exceeds_and_always_marks(limit: int) -> None:
    text = "word " * 40
    cut = truncate(text, limit)
    assert len(cut) <= limit
    assert cut.endswith("…")
    body = cut[:-1]
    # Either empty, or a prefix that ends at a whole word.
    assert not body or (text.startswith(body) and text[len(body)] == " ")
    assert truncate(text, 1) == "…"


def test_truncate_marks_a_cut_inside_one_long_word() -> None:
    url = "https://example.org/" + "x" * 300
    cut = truncate(url, 100)
    assert len(cut) == 100 and cut.endswith("…")


def test_join_lines_counts_what_it_leaves_out() -> None:
    lines = [f"line number {i}" for i in range(100)]
    text = join_lines(lines, 200)
    assert len(text) <= 200
    kept = text.splitlines()
    assert kept[-1] == f"… and {100 - (len(kept) - 1)} more"
    assert kept[:-1] == lines[: len(kept) - 1]


def test_builder_holds_every_limit_under_huge_input() -> None:
    b = EmbedBuilder("T" * 400, description="d " * 5000, footer="f" * 3000, author="a" * 300)
    for i in range(40):
        b.add_field(f"name {i} " + "n" * 300, "value " * 400)
    embed = b.build()
    within_limits(embed)
    assert embed.title is not None and embed.title.endswith("…")
    assert embed.footer.text is not None and embed.footer.text.endswith("more not shown")
    assert embed.description is not None and embed.description.endswith("…")


def test_event_embed_dates_links_and_marker() -> None:
    embed = event_embed(event(), marker="Updated")
    data = embed.to_dict()
    assert data["title"] == "[Updated] Unha-3 places a satellite in orbit"
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Date"] == "12 Dec 2012"
    assert fields["Sources"] == "[Database](https://example.org/a) — CSIS, Jan 2013"
    assert fields["Programs"] == "Space launch"
    assert (
        event_embed(event(occurred_on=dt.date(1984, 9, 1), precision="month")).fields[0].value == "Sep 1984"
    )
    assert event_embed(event(occurred_on=dt.date(2015, 1, 1), precision="year")).fields[0].value == "2015"


def test_event_embed_of_a_maximal_event_fits() -> None:
    sources = tuple(
        SourceView("P" * 200, "T" * 500, dt.date(2020, 1, 1), "day", "https://example.org/" + "u" * 480)
        for _ in range(30)
    )
    big = event(
        title="x" * 200,
        summary="s " * 750,
        sources=sources,
        actors=tuple(Ref(f"a{i}", "A" * 80) for i in range(30)),
    )
    embed = event_embed(big, marker="Retracted")
    within_limits(embed)
    sources_value = next(f.value for f in embed.fields if f.name == "Sources")
    assert sources_value is not None and "more" in sources_value


def test_retracted_event_says_so() -> None:
    embed = event_embed(event(status="retracted", retract_reason="duplicate"))
    assert embed.description is not None and embed.description.startswith("**Retracted: duplicate**")


def test_link_survives_brackets_and_parentheses() -> None:
    assert link("A [draft] note", "https://x.org/a_(b)") == "[A (draft) note](https://x.org/a_(b%29)"
    assert link("No URL", None) == "No URL"


def test_mention_like_text_is_left_as_written() -> None:
    line = event_line(event(title="@everyone look"))
    assert "@everyone" in line


async def test_reply_payload_is_what_discord_gets() -> None:
    reply = Reply(content="x" * 2500, embeds=[event_embed(event())] * 12, ephemeral=True)
    payload = reply.payload()
    assert set(payload) == {"content", "embeds", "components", "flags", "allowed_mentions"}
    assert len(payload["content"]) == 2000 and payload["content"].endswith("…")
    assert len(payload["embeds"]) == 10
    assert payload["flags"] == 64
    assert payload["allowed_mentions"] == {"parse": []}


def test_choices_are_capped() -> None:
    items = [Choice("n" * 150, f"v{i}") for i in range(40)]
    out = choices(items)
    assert len(out) == 25
    assert all(len(c.name) <= 100 and c.name.endswith("…") for c in out)


HOSTILE_TEXT = "[Official KCNA](https://evil.example/x)\n# heading <@123> <#456>"


def _live(text: str) -> bool:
    """True when Discord would render a masked link, a heading or a mention pill in ``text``."""
    masked = re.search(r"(?<!\\)\[[^\]]*\]\(", text)
    heading = re.search(r"(?m)^#", text)
    pill = re.search(r"(?<!\\)<[@#]", text)
    return bool(masked or heading or pill)


def test_curated_text_stays_text_in_an_event_embed() -> None:
    embed = event_embed(
        event(title=HOSTILE_TEXT, summary=HOSTILE_TEXT, status="retracted", retract_reason=HOSTILE_TEXT),
        marker="Retracted",
    )
    assert embed.description is not None and not _live(embed.description)
    assert "Official KCNA" in embed.description


def test_a_source_link_is_a_web_address_or_plain_text() -> None:
    assert link("Official KCNA", "javascript:alert(1)") == "Official KCNA"
    assert not _live(link(HOSTILE_TEXT, None))
    sources = (SourceView(HOSTILE_TEXT, HOSTILE_TEXT, None, "day", "javascript:alert(1)"),)
    value = next(f.value for f in event_embed(event(sources=sources)).fields if f.name == "Sources")
    assert value is not None and not _live(value) and "javascript" not in value


def test_alert_content_and_search_lines_stay_text() -> None:
    payload = alert_payload(event(title=HOSTILE_TEXT), marker=None)
    assert not _live(payload["content"])
    assert not _live(payload["embeds"][0]["description"])
    page = SearchPage("x", (), (event(summary=HOSTILE_TEXT),), total_events=1, offset=0, limit=5)
    fields = search_embed(page)[0].fields
    assert fields[0].value is not None and not _live(fields[0].value)
