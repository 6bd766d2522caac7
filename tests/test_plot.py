"""The chart font draws Korean, Japanese and Chinese labels as glyphs, never as tofu boxes."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot.services.plot import Bar, Figure, _font, font_path, render_png

LABELS = {"ko": "탄도미사일 발사", "ja": "弾道ミサイル発射", "zh": "弹道导弹发射"}
#: Characters no font has: what a missing glyph looks like (the font's .notdef box).
MISSING = "\U000f0000"


def glyph(text: str) -> bytes:
    """The bitmap of ``text`` in the chart font."""
    font = _font(32)
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((8, 8), text, font=font, fill=255)
    return image.tobytes()


def test_a_cjk_font_is_found() -> None:
    path = font_path()
    assert path is not None, "no CJK font: install fonts-wqy-microhei (see .ci/run)"
    assert isinstance(_font(16), ImageFont.FreeTypeFont)


@pytest.mark.parametrize("locale", sorted(LABELS))
def test_cjk_labels_are_drawn_as_glyphs_not_boxes(locale: str) -> None:
    if font_path() is None:
        pytest.fail("no CJK font: install fonts-wqy-microhei (see .ci/run)")
    box = glyph(MISSING)
    characters = [c for c in LABELS[locale] if not c.isspace()]
    shapes = {c: glyph(c) for c in characters}
    for character, shape in shapes.items():
        assert shape != box, f"{character!r} ({locale}) is drawn as the missing-glyph box"
        assert any(shape), f"{character!r} ({locale}) draws nothing"
    assert len(set(shapes.values())) == len(set(characters)), "two characters share one shape"


def test_a_chart_with_cjk_labels_differs_from_one_with_boxes() -> None:
    bars = tuple(Bar(str(i), label, i + 1) for i, label in enumerate(LABELS.values()))
    drawn = render_png(bars, Figure("발사 · 発射 · 发射", horizontal=True))
    boxes = tuple(Bar(b.key, MISSING * len(b.label), b.value) for b in bars)
    tofu = render_png(boxes, Figure(MISSING * 7, horizontal=True))
    a, b = (Image.open(io.BytesIO(png)).convert("L") for png in (drawn, tofu))
    assert a.size == b.size and ImageChops.difference(a, b).getbbox() is not None
