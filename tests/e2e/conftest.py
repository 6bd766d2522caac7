"""Fixtures of the end-to-end layer: a started fake Discord that fails the test on violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from testing.fake_discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord on a free local port; any recorded violation fails the test at teardown."""
    async with FakeDiscord() as fake:
        yield fake
        fake.assert_no_violations()
