"""A non-editable install works outside the source tree: the wheel carries the migrations and the corpus.

The wheel is built offline (no build isolation, no index) and installed with ``--no-deps`` into a fresh
venv that sees this interpreter's dependencies through a ``.pth`` line; every command then runs from a
folder with no source tree in it, with the default database (``var/`` under that folder).
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.db import alembic_config
from tests.conftest import REPO

CNS_EXCERPT = REPO / "tests" / "fixtures" / "cns-excerpt.csv"
#: What the wheel is built from (as in the Dockerfile's build stage).
SOURCES = ("pyproject.toml", "README.md", "bot", "cogs", "data", "migrations")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv holding only the wheel (dependencies come from this interpreter)."""
    setuptools = metadata.version("setuptools")
    assert int(setuptools.split(".")[0]) >= 77, (
        f"setuptools {setuptools} cannot build this project offline: pip install -e '.[test]' again"
    )
    root = tmp_path_factory.mktemp("wheel")
    # A copy of what the build reads, so nothing stale in the tree's own build/ can slip into the wheel.
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(REPO / name, source / name)
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
        "-w", root / "dist", source, cwd=root,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("peninsula_brief-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/migrations/env.py" in names and "bot/data/events-2017-2026.yaml" in names
    assert {f"bot/i18n/locale/{lang}/LC_MESSAGES/messages.po" for lang in ("ko", "ja", "zh-CN")} <= set(names)
    assert any(n.startswith("bot/migrations/versions/") and n.endswith("_initial_schema.py") for n in names)
    venv = root / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root).returncode == 0
    python = venv / "bin" / "python"
    target = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root).stdout.strip()
    )
    # The dependencies already installed here; path lines only, so this interpreter's editable hook stays out.
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    pip = run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=root
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return python


def cli(python: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISCORD_", "PYTHON"))}
    env |= {"HOME_GUILD_IDS": "", "LOG_LEVEL": "WARNING"}
    return run(python, "-m", "bot", *args, cwd=cwd, env=env)


def test_the_wheel_works_from_another_folder(installed: Path, tmp_path: Path) -> None:
    where = run(
        installed, "-c", "import bot.resources as r; print(r.__file__); print(r.data_dir())", cwd=tmp_path
    )
    module, data = where.stdout.split()
    assert not Path(module).is_relative_to(REPO) and not Path(data).is_relative_to(REPO), where.stdout

    upgraded = cli(installed, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert (tmp_path / "var" / "peninsula-brief.db").is_file()

    seeded = cli(installed, "seed", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "programs:" in seeded.stdout and " created" in seeded.stdout
    assert "events: 0 created" not in seeded.stdout

    answered = cli(installed, "console", "/program name:sohae", cwd=tmp_path)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "Sohae" in answered.stdout

    imported = cli(installed, "import", CNS_EXCERPT, "--format", "cns", cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    # After the seed, rows that record a curated launch merge into it instead of becoming events.
    counts = re.search(
        r"CNS import: 11 rows — (\d+) created, 0 updated, 0 unchanged(?:, (\d+) merged)?", imported.stdout
    )
    assert counts is not None, imported.stdout
    assert int(counts[1]) + int(counts[2] or 0) == 11, imported.stdout
    assert "Traceback" not in upgraded.stderr + seeded.stderr + answered.stderr + imported.stderr


def test_every_package_of_the_tree_is_in_the_wheel() -> None:
    # pyproject.toml names the packages (data/ and migrations/ are mapped into bot): a new one is added there.
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("bot", "cogs")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == {"bot.data", "bot.migrations"}
