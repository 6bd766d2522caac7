"""A chart as Discord shows it: an embed (title, what is counted, the source, the as-of date) with
the PNG attached, and the same numbers as a short text table for screen readers."""

from __future__ import annotations

import discord

from bot.discord.render.text import DESCRIPTION_MAX, FOOTER_MAX, TITLE_MAX, truncate
from bot.services.charts import COUNTED_TEXT, LABELS, SOURCE, ChartData, as_of_text, narrowed, title

FILENAME = "chart.png"
#: More rows than this and the table leaves out the zero rows (the image still shows them).
TABLE_ROWS = 60


def table(data: ChartData) -> str:
    """The bars as a code block, one row each: ``2017  20``; the total last."""
    rows = list(data.bars)
    note = ""
    if len(rows) > TABLE_ROWS:
        rows = [b for b in rows if b.value]
        note = "\n(0 rows left out)"
    width = max([len(b.label) for b in rows] + [len(LABELS["total"])])
    digits = max([len(str(b.value)) for b in rows] + [len(str(data.total))])
    lines = [f"{b.label.ljust(width)}  {str(b.value).rjust(digits)}" for b in rows]
    lines.append(f"{LABELS['total'].ljust(width)}  {str(data.total).rjust(digits)}")
    body = "\n".join(lines)
    return f"```\n{body}\n```{note}"


def chart_embed(data: ChartData, names: dict[str, str], locale: str = "en") -> discord.Embed:
    q = data.query
    counted = f"**{LABELS['counted']}:** {COUNTED_TEXT[q.metric]}"
    filters = narrowed(q, names, locale)
    head = "\n".join([counted, *([" · ".join(filters)] if filters else [])])
    body = table(data) if data.bars else LABELS["empty"]
    if len(head) + len(body) + 2 > DESCRIPTION_MAX:
        body = LABELS["empty"] if not data.bars else truncate(body, DESCRIPTION_MAX - len(head) - 8) + "\n```"
    embed = discord.Embed(
        title=truncate(title(q, locale), TITLE_MAX), description=f"{head}\n\n{body}", colour=0x3B6EA5
    )
    embed.add_field(name=LABELS["source"], value=SOURCE, inline=False)
    embed.set_footer(text=truncate(f"{LABELS['as_of']} {as_of_text(data, locale)}", FOOTER_MAX))
    embed.set_image(url=f"attachment://{FILENAME}")
    return embed
