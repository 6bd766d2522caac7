"""Files that ship inside the package: the curated corpus (``data/``) and the migrations.

In the repository they stay at the root; ``pyproject.toml`` maps them into the package as ``bot.data``
and ``bot.migrations``, so an installed wheel carries them and they are read from wherever it is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def directory(name: str) -> Path:
    """The folder of ``bot.<name>`` (``data`` or ``migrations``) as a path on disk."""
    try:
        return Path(str(resources.files(f"bot.{name}")))
    except ModuleNotFoundError:
        # An editable install made before the mapping existed imports bot/ from the source tree only.
        return SOURCE_ROOT / name


def data_dir() -> Path:
    """The curated corpus and the JSON Schemas of the data files."""
    return directory("data")


def migrations_dir() -> Path:
    """The Alembic environment and its versions."""
    return directory("migrations")
