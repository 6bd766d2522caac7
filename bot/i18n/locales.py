"""Which of the bot's languages a Discord locale (``interaction.locale``, a server setting) means."""

from __future__ import annotations

LOCALES = ("en", "ko", "ja", "zh-CN")
DEFAULT = "en"

# Babel's name for each of our locales (CLDR data for dates and numbers).
BABEL: dict[str, str] = {"en": "en_GB", "ko": "ko_KR", "ja": "ja_JP", "zh-CN": "zh_Hans_CN"}

# Chinese written in Traditional script (Taiwan, Hong Kong, Macau) is *not* served the zh-CN
# catalog: it is Simplified script and follows mainland usage (朝鲜, where Taiwan's press writes
# 北韓). Until a zh-TW catalog exists those readers get English, the neutral fallback.
_TRADITIONAL = {"zh-tw", "zh-hk", "zh-mo", "zh-hant"}


def negotiate(value: str | None) -> str:
    """``"ko"``, ``"ja"``, ``"zh-CN"`` or ``"en"`` for a Discord locale such as ``"en-US"`` or ``"ko"``.

    Accepts any case and ``_`` for ``-`` (``zh_CN``, ``ko-KR``, a ``discord.Locale``'s value); an
    unknown, empty or missing locale is English.
    """
    if not value:
        return DEFAULT
    code = str(value).strip().replace("_", "-").casefold()
    if not code:
        return DEFAULT
    if code in _TRADITIONAL or code.startswith("zh-hant"):
        return DEFAULT
    language = code.split("-", 1)[0]
    if language == "zh":
        return "zh-CN"
    if language in ("ko", "ja"):
        return language
    return DEFAULT
