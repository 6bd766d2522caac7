"""The suggestion limit under concurrency, on both databases: two suggestions of one member at
the limit arriving together never both pass (the second is refused, told when to try again), and
nothing fails. On PostgreSQL the two are made to overlap for certain: both are held at their first
write until both are waiting, so each would have counted four without the lock."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select, text

from bot import models
from bot.services.access import Caller, Policy
from bot.services.review import SUGGEST_LIMIT, ReviewService, Suggestion, TooManySuggestions
from tests.services.conftest import HOME, Services

MEMBER = Caller(77, HOME)


def _suggestion(n: int) -> Suggestion:
    return Suggestion(f"Launch report number {n}", "2024-05-30", "Reported.", f"https://example.org/{n}")


async def _drafts(services: Services) -> int:
    async with services.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(models.Draft)) or 0)


async def _waiting(services: Services, count: int, within: float = 30) -> None:
    """Until ``count`` other sessions wait on a lock (PostgreSQL's own view of its backends)."""
    deadline = time.monotonic() + within
    while True:
        async with services.db.engine.connect() as conn:
            n = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        if n == count:
            return
        assert time.monotonic() < deadline, f"{n} sessions wait on a lock, wanted {count}"
        await asyncio.sleep(0.05)


async def test_two_suggestions_at_the_limit_never_both_pass(services: Services) -> None:
    review = ReviewService(services.db.sessionmaker, Policy.of([HOME]))
    for n in range(SUGGEST_LIMIT - 1):
        await review.suggest(MEMBER, _suggestion(n))
    race = [review.suggest(MEMBER, _suggestion(100 + n)) for n in range(2)]
    if services.db.dialect == "postgresql":
        # Hold every insert into draft until both suggestions have come as far as they can.
        async with services.db.engine.connect() as blocker:
            await blocker.execute(text("LOCK TABLE draft IN SHARE ROW EXCLUSIVE MODE"))
            tasks = [asyncio.create_task(r) for r in race]
            await _waiting(services, 2)
            await blocker.commit()
            results = await asyncio.gather(*tasks, return_exceptions=True)
    else:
        results = await asyncio.gather(*race, return_exceptions=True)
    refused = [r for r in results if isinstance(r, TooManySuggestions)]
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1 and len(refused) == 1, results
    assert "you can suggest again at" in str(refused[0])
    assert await _drafts(services) == SUGGEST_LIMIT
