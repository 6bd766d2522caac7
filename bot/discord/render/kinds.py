"""How each kind of event is named and coloured."""

from __future__ import annotations

KIND_LABELS: dict[str, str] = {
    "nuclear_test": "Nuclear test",
    "missile_launch": "Missile launch",
    "satellite_launch": "Satellite launch",
    "military_parade": "Military parade",
    "talks_session": "Talks session",
    "summit": "Summit",
    "agreement": "Agreement",
    "statement": "Statement",
    "sanctions": "Sanctions",
    "testimony": "Testimony",
    "facility_activity": "Facility activity",
    "military_action": "Military action",
    "other": "Other",
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


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
