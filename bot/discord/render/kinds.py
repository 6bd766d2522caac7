"""How each kind of event is named and coloured."""

from __future__ import annotations

from bot.i18n import N_, gettext

KIND_LABELS: dict[str, str] = {
    "nuclear_test": N_("Nuclear test"),
    "missile_launch": N_("Missile launch"),
    "satellite_launch": N_("Satellite launch"),
    "military_parade": N_("Military parade"),
    "talks_session": N_("Talks session"),
    "summit": N_("Summit"),
    "agreement": N_("Agreement"),
    "statement": N_("Statement"),
    "sanctions": N_("Sanctions"),
    "testimony": N_("Testimony"),
    "facility_activity": N_("Facility activity"),
    "military_action": N_("Military action"),
    "other": N_("Other"),
}
KIND_COLOURS: dict[str, int] = {
    "nuclear_test": 0xC0392B,
    "missile_launch": 0xE67E22,
    "satellite_launch": 0x8E44AD,
    "talks_session": 0x2980B9,
    "summit": 0x2980B9,
    "agreement": 0x27AE60,
    "sanctions": 0x7F8C8D,
}


def kind_label(kind: str, locale: str = "en") -> str:
    """The kind's name in ``locale`` (an unknown kind: its code in words, as it is)."""
    label = KIND_LABELS.get(kind)
    return gettext(locale, label) if label else kind.replace("_", " ").capitalize()
