"""A chart as Discord shows it: an embed (title, what is counted, the source, the as-of date) with
the PNG attached, and the same numbers as a short text table for screen readers."""

from __future__ import annotations

import unicodedata

import discord

from bot.discord.render.text import DESCRIPTION_MAX, FOOTER_MAX, TITLE_MAX, truncate
from bot.i18n import gettext
from bot.services.charts import ChartData, as_of_text, counted_text, label, narrowed, source_text, title

FILENAME = "chart.png"
#: More rows than this and the table leaves out the zero rows (the image still shows them).
TABLE_ROWS = 60


def _cells(text: str) -> int:
    """How many monospace cells ``text`` takes: a CJK character (wide) takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _cells(text))


def table(data: ChartData, locale: str = "en") -> str:
    """The bars as a code block, one row each: ``2017  20``; the total last (columns kept straight
    with CJK names: a wide character counts two cells)."""
    rows = list(data.bars)
    note = ""
    if len(rows) > TABLE_ROWS:
        rows = [b for b in rows if b.value]
        note = "\n" + gettext(locale, "(0 rows left out)")
    total = label("total", locale)
    width = max([_cells(b.label) for b in rows] + [_cells(total)])
    digits = max([len(str(b.value)) for b in rows] + [len(str(data.total))])
    lines = [f"{_pad(b.label, width)}  {str(b.value).rjust(digits)}" for b in rows]
    lines.append(f"{_pad(total, width)}  {str(data.total).rjust(digits)}")
    body = "\n".join(lines)
    return f"```\n{body}\n```{note}"


def chart_embed(data: ChartData, names: dict[str, str], locale: str = "en") -> discord.Embed:
    """The chart's embed in ``locale``: its title, what is counted, the filters, the table, the
    source and the as-of date."""
    q = data.query
    counted = f"**{label('counted', locale)}:** {counted_text(q, locale)}"
    filters = narrowed(q, names, locale)
    head = "\n".join([counted, *([" · ".join(filters)] if filters else [])])
    empty = label("empty", locale)
    body = table(data, locale) if data.bars else empty
    if len(head) + len(body) + 2 > DESCRIPTION_MAX:
        body = empty if not data.bars else truncate(body, DESCRIPTION_MAX - len(head) - 8) + "\n```"
    embed = discord.Embed(
        title=truncate(title(q, locale), TITLE_MAX), description=f"{head}\n\n{body}", colour=0x3B6EA5
    )
    embed.add_field(name=label("source", locale), value=source_text(locale), inline=False)
    embed.set_footer(text=truncate(as_of_text(data, locale), FOOTER_MAX))
    embed.set_image(url=f"attachment://{FILENAME}")
    return embed
