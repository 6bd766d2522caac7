"""Bar charts as PNG, drawn with Pillow (chosen over matplotlib on measurement: README, "Charts").

A font with Korean, Japanese and Chinese glyphs is looked for by path (``CHART_FONT`` first, then the
Debian fonts that ``.ci/run`` and the Dockerfile install), so labels in every reader's language are
drawn, never as tofu boxes. Drawing is plain CPU work: callers run :func:`render_png` in a worker
thread (``asyncio.to_thread``); a lock keeps the shared FreeType faces to one thread at a time.
"""

from __future__ import annotations

import io
import math
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

#: Fonts tried in order; the first that exists is used for every label.
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian fonts-wqy-microhei: Latin, CJK, Hangul
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # Debian fonts-droid-fallback
)
WIDTH, HEIGHT = 960, 540
ROW = 26  # height of one bar of a horizontal chart
ROWS_MAX = 30  # bars drawn in a horizontal chart; the text table beside it has them all
BAR = (59, 110, 165)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Bar:
    key: str  # a year, a month (YYYY-MM) or a slug
    label: str
    value: int


@dataclass(frozen=True)
class Figure:
    """The words around the bars, already in the reader's language."""

    title: str
    subtitle: str = ""
    footer: str = ""
    empty: str = "No events counted"
    horizontal: bool = False  # one row per program or system, named on the left


def font_path() -> str | None:
    """The chart font: ``CHART_FONT`` if set, else the first of :data:`FONT_PATHS` that exists."""
    chosen = os.environ.get("CHART_FONT")
    for path in (chosen, *FONT_PATHS) if chosen else FONT_PATHS:
        if Path(path).is_file():
            return path
    return None


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    # Basic layout: short labels need no complex shaping, and Raqm costs ~5 ms a label (measured).
    basic = ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=basic) if path else ImageFont.load_default(size)


def _width(draw: ImageDraw.ImageDraw, text: str, size: int) -> float:
    return draw.textlength(text, font=_font(size))


def _nice_step(top: int) -> int:
    """A round grid step giving at most about five lines up to ``top``."""
    raw = max(top / 5, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def _frame(draw: ImageDraw.ImageDraw, figure: Figure, height: int) -> None:
    draw.text((24, 14), figure.title, font=_font(24), fill=INK)
    if figure.subtitle:
        draw.text((24, 46), figure.subtitle, font=_font(15), fill=MUTED)
    if figure.footer:
        draw.text((24, height - 26), figure.footer, font=_font(13), fill=MUTED)


def _vertical(draw: ImageDraw.ImageDraw, bars: tuple[Bar, ...]) -> None:
    left, top, right, bottom = 64, 84, WIDTH - 24, HEIGHT - 64
    peak = max(b.value for b in bars)
    step = _nice_step(peak)
    ceiling = max(step * math.ceil(peak / step), step)
    scale = (bottom - top) / ceiling
    for tick in range(0, ceiling + 1, step):
        y = bottom - tick * scale
        draw.line([(left, y), (right, y)], fill=GRID)
        label = str(tick)
        draw.text((left - 8 - _width(draw, label, 13), y - 8), label, font=_font(13), fill=MUTED)
    slot = (right - left) / len(bars)
    widest = max(_width(draw, b.label, 13) for b in bars) + 10
    every = max(1, math.ceil(widest / slot))
    for i, bar in enumerate(bars):
        x0 = left + i * slot + slot * 0.12
        x1 = left + (i + 1) * slot - slot * 0.12
        if bar.value:
            draw.rectangle([(x0, bottom - bar.value * scale), (max(x1, x0 + 1), bottom)], fill=BAR)
        text = str(bar.value)
        if bar.value and _width(draw, text, 12) <= slot:
            draw.text(((x0 + x1 - _width(draw, text, 12)) / 2, bottom - bar.value * scale - 16), text,
                      font=_font(12), fill=INK)  # fmt: skip
        if i % every == 0:
            x = (x0 + x1 - _width(draw, bar.label, 13)) / 2
            draw.text((x, bottom + 6), bar.label, font=_font(13), fill=INK)
    draw.line([(left, bottom), (right, bottom)], fill=INK)


def _horizontal(draw: ImageDraw.ImageDraw, bars: tuple[Bar, ...], height: int) -> None:
    shown = bars[:ROWS_MAX]
    label_width = min(max(_width(draw, b.label, 15) for b in shown) + 16, WIDTH // 3)
    left, right, top = 24 + label_width, WIDTH - 64, 84
    peak = max(b.value for b in shown) or 1
    scale = (right - left) / peak
    for i, bar in enumerate(shown):
        y = top + i * ROW
        label = bar.label
        while _width(draw, label, 15) > label_width - 16 and len(label) > 1:
            label = label[:-2] + "…"
        draw.text((24, y + 3), label, font=_font(15), fill=INK)
        if bar.value:
            draw.rectangle([(left, y + 4), (left + max(bar.value * scale, 1), y + ROW - 4)], fill=BAR)
        draw.text((left + bar.value * scale + 6, y + 4), str(bar.value), font=_font(14), fill=INK)
    draw.line([(left, top), (left, top + len(shown) * ROW)], fill=INK)
    if len(bars) > len(shown):
        draw.text((24, height - 48), f"+{len(bars) - len(shown)}", font=_font(13), fill=MUTED)


def render_png(bars: tuple[Bar, ...], figure: Figure) -> bytes:
    """The chart of ``bars`` as PNG bytes (blocking: call it in a worker thread)."""
    rows = min(len(bars), ROWS_MAX)
    height = max(HEIGHT // 2, 84 + rows * ROW + 64) if figure.horizontal else HEIGHT
    with _LOCK:
        image = Image.new("RGB", (WIDTH, height), "white")
        draw = ImageDraw.Draw(image)
        _frame(draw, figure, height)
        if not bars or not any(b.value for b in bars):
            width = _width(draw, figure.empty, 20)
            draw.text(((WIDTH - width) / 2, height / 2 - 12), figure.empty, font=_font(20), fill=MUTED)
        elif figure.horizontal:
            _horizontal(draw, bars, height)
        else:
            _vertical(draw, bars)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
    return out.getvalue()
