"""The data version of what a reader sees: bumped by each committed write of its events, per
scope, so a guild's local writes change only that guild's version; a refused write bumps nothing."""

from __future__ import annotations

import pytest

from bot.services import data_version
from bot.services.errors import ValidationFailed
from tests.services.conftest import HOME, OTHER, THIRD, Services, curator
from tests.services.test_services import event_input


async def versions(services: Services) -> dict[int | None, str]:
    async with services.db.sessionmaker() as session:
        return {g: await data_version.version(session, g) for g in (None, HOME, OTHER, THIRD)}


async def test_each_write_is_a_new_version_where_it_can_be_seen(services: Services) -> None:
    before = await versions(services)
    local = await services.curation.create(curator(OTHER), event_input(title="Local drill near the coast"))
    assert local.guild_id == OTHER
    after_local = await versions(services)
    # Only OTHER sees its local event: nobody else's version moves (not even a hint of the write).
    assert after_local[OTHER] != before[OTHER]
    assert {g: v for g, v in after_local.items() if g != OTHER} == {
        g: v for g, v in before.items() if g != OTHER
    }
    # A global event (imported from the shared corpus, a retraction) is a new version for everyone.
    global_event = next(e for e in await services.events.latest(limit=5) if e.guild_id is None)
    await services.curation.retract(curator(HOME), global_event.id, "Duplicate of another event.")
    after_retract = await versions(services)
    assert all(after_retract[g] != after_local[g] for g in after_local)


async def test_a_refused_write_is_no_new_version(services: Services) -> None:
    before = await versions(services)
    with pytest.raises(ValidationFailed):
        await services.curation.create(curator(HOME), event_input(date="2024-13-45"))
    assert await versions(services) == before
