"""Paged documents without Discord: text and lists flow onto the next page, nothing is cut or lost."""

from __future__ import annotations

import re

import discord

from bot.discord.documents import Document, document, open_document
from bot.discord.render.briefing import Counts, help_pages
from bot.discord.render.flow import Flow
from bot.discord.render.reply import Who
from bot.discord.render.text import CONTINUED, EMBED_TOTAL_MAX, FIELD_VALUE_MAX, split_sentences
from bot.services.container import Services

SENTENCE = "Item {i} of the long list is described here, in a sentence of its own."
STORY = " ".join(SENTENCE.format(i=i) for i in range(120))
LINES = [f"line {i:03d} " + "x" * 60 for i in range(150)]


def flowed() -> list[discord.Embed]:
    flow = Flow("Numbers", description=STORY[:5000], footer="a test document")
    flow.add_lines("Lines", LINES)
    flow.add_field("Story", STORY)
    return flow.build()


def values(pages: list[discord.Embed], name: str) -> list[str]:
    return [str(f.value) for p in pages for f in p.fields if str(f.name).startswith(name)]


def test_a_long_list_flows_whole_onto_the_next_pages() -> None:
    pages = flowed()
    assert len(pages) > 2
    shown = "\n".join(values(pages, "Lines")).splitlines()
    assert shown == LINES
    names = [str(f.name) for p in pages for f in p.fields if str(f.name).startswith("Lines")]
    assert names[0] == "Lines" and set(names[1:]) == {"Lines (continued)"}
    whole = "\n".join(str(p.description or "") + "".join(str(f.value) for f in p.fields) for p in pages)
    assert not re.search(r"and \d+ more", whole)


def test_a_long_text_is_cut_only_after_a_sentence_and_goes_on_overleaf() -> None:
    pages = flowed()
    pieces = values(pages, "Story")
    assert len(pieces) > 1
    for piece in pieces[:-1]:
        head = piece.removesuffix("\n" + CONTINUED)
        assert head != piece and head.endswith("."), piece[-80:]
    assert " ".join(p.removesuffix("\n" + CONTINUED) for p in pieces) == STORY
    described = [str(p.description) for p in pages if p.description]
    assert " ".join(d.removesuffix("\n" + CONTINUED) for d in described) == STORY[:5000]


def test_a_section_that_fits_a_page_is_never_split() -> None:
    flow = Flow("Positions", footer="a test document")
    for i in range(12):
        flow.add_field(f"Position {i}", SENTENCE.format(i=i) * 10)  # 700 characters, 7 sentences each
    pages = flow.build()
    assert len(pages) > 1
    shown = [str(f.value) for p in pages for f in p.fields]
    assert shown == [SENTENCE.format(i=i) * 10 for i in range(12)]


def test_every_page_keeps_discords_limits_with_its_counter() -> None:
    pages = flowed()
    for i, page in enumerate(pages, 1):
        page.set_footer(text=f"Page {i}/{len(pages)} · {page.footer.text}")
        assert len(page) <= EMBED_TOTAL_MAX
        assert len(page.fields) <= 25
        assert all(len(str(f.value)) <= FIELD_VALUE_MAX for f in page.fields)


def test_sentence_split_keeps_abbreviations_and_falls_back_to_words() -> None:
    head, rest = split_sentences("The U.S. said no. Then Mr. Kim spoke at length about it.", 54)
    assert head == f"The U.S. said no.\n{CONTINUED}" and rest == "Then Mr. Kim spoke at length about it."
    head, rest = split_sentences("word " * 40, 60)
    assert (
        head.endswith(CONTINUED)
        and (head.removesuffix("\n" + CONTINUED) + " " + rest).split() == ["word"] * 40
    )


@document("test-numbers")
async def numbers(services: Services, who: Who, args: str) -> Document:
    return Document(flowed()[: int(args)], links=[("Sources", "https://example.org/s")])


async def test_open_document_shows_one_page_with_its_counter_and_buttons() -> None:
    services: Services = None  # type: ignore[assignment]  # the test document reads no service
    who = Who(1, 42)
    reply = await open_document(services, who, "test-numbers", "3", page=2)
    [embed] = reply.embeds
    assert embed.footer.text == "Page 2/3 · a test document"
    assert reply.view is not None
    prev, nxt, link = reply.view.children
    assert isinstance(prev, discord.ui.DynamicItem) and isinstance(nxt, discord.ui.DynamicItem)
    assert prev.custom_id == "pb:doc:42:test-numbers:3:1" and not prev.item.disabled
    assert nxt.custom_id == "pb:doc:42:test-numbers:3:3" and not nxt.item.disabled
    assert isinstance(link, discord.ui.Button) and link.url == "https://example.org/s"
    last = await open_document(services, who, "test-numbers", "3", page=9)  # fewer pages now: the last
    assert last.embeds[0].footer.text == "Page 3/3 · a test document"
    assert last.view is not None and last.view.children[1].item.disabled  # type: ignore[attr-defined]
    single = await open_document(services, who, "test-numbers", "1")
    assert single.embeds[0].footer.text == "a test document"
    assert single.view is not None and len(single.view.children) == 1


def test_help_pages_list_every_command_however_many() -> None:
    commands = [(f"command{i:02d}", f"does thing number {i} " + "y" * 80) for i in range(90)]
    counts = Counts(events=5, programs=2, tracks=1, parties=4, topics=2, positions=3)
    pages = help_pages(counts, commands)
    assert len(pages) > 1
    listed = "\n".join(values(pages, "Commands")).splitlines()
    assert listed == [f"`/{name}` — {description}" for name, description in commands]
    assert all(len(p) <= EMBED_TOTAL_MAX - 24 for p in pages)
    whole = "\n".join("".join(str(f.value) for f in p.fields) for p in pages)
    assert "… and" not in whole
