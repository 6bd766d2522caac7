"""The schema lives in Alembic: it goes up, down and up again, and matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot import db as dbmod
from bot.db import include_object
from bot.models import Base
from tests.conftest import Database


def _diff(sync_conn: object) -> list[object]:
    ctx = MigrationContext.configure(
        sync_conn,  # type: ignore[arg-type]
        opts={"include_object": include_object, "compare_type": True, "target_metadata": Base.metadata},
    )
    return list(compare_metadata(ctx, Base.metadata))


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(database: Database) -> None:
    assert await dbmod.current_revision(database.engine) is not None
    await dbmod.downgrade(database.engine, "base")
    assert await _tables(database) <= {"alembic_version"}
    assert await dbmod.current_revision(database.engine) is None
    await dbmod.upgrade(database.engine)
    assert {t.name for t in Base.metadata.sorted_tables} <= await _tables(database)


async def test_migrated_schema_matches_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_drift_is_detected(database: Database) -> None:
    # The drift check must be able to fail: drop an index and it is reported.
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_event_kind"))
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert any("ix_event_kind" in repr(d) for d in diff)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE INDEX ix_event_kind ON event (kind, occurred_on)"))


async def test_milestone_and_primary_track_go_down_without_touching_events(database: Database) -> None:
    # 0005 must not rebuild ``event``: a rebuild would cascade-delete sources and drop search triggers.
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO talks_track (id, slug, name, summary, status, status_since_precision, aliases)"
                " VALUES (1, 'six-party', 'Six-Party Talks', 's', 'ended', 'day', '[]')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO event (id, title, summary, occurred_on, precision, kind, significance, status,"
                " details, revision, milestone) VALUES (1, 'Joint Statement agreed', 'Beijing', '2005-09-19',"
                " 'day', 'agreement', 5, 'published', '{}', 1, true)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO source (event_id, position, publisher, title, published_precision)"
                " VALUES (1, 0, 'State', 'Joint Statement', 'day')"
            )
        )
        await conn.execute(text("INSERT INTO event_track (event_id, track_id) VALUES (1, 1)"))
        await conn.execute(text("INSERT INTO event_primary_track (event_id, track_id) VALUES (1, 1)"))
    await dbmod.downgrade(database.engine, "0004")
    try:
        async with database.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM source"))).scalar() == 1
            assert (await conn.execute(text("SELECT count(*) FROM event_track"))).scalar() == 1
            assert "event_primary_track" not in await conn.run_sync(lambda c: inspect(c).get_table_names())
            columns = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("event")])
            assert "milestone" not in columns
            if database.dialect == "sqlite":
                found = await conn.execute(
                    text("SELECT rowid FROM event_fts WHERE event_fts MATCH 'Beijing'")
                )
                assert found.scalars().all() == [1]
                await conn.execute(text("UPDATE event SET title = 'Joint Statement of 19 September'"))
    finally:
        await dbmod.upgrade(database.engine)


async def test_several_subscriptions_per_channel_keeps_every_delivery(database: Database) -> None:
    # 0014 rebuilds ``subscription`` on SQLite: dropping the old table must not cascade to ``delivery``.
    await dbmod.downgrade(database.engine, "0013")
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO event (id, title, summary, occurred_on, precision, kind, significance,"
                    " status, details, revision, milestone) VALUES (1, 'Joint Statement agreed', 'Beijing',"
                    " '2005-09-19', 'day', 'agreement', 5, 'published', '{}', 1, true)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO subscription (id, guild_id, channel_id, kinds, programs, tracks, actors,"
                    " systems, facilities, min_significance, state)"
                    " VALUES (7, 1, 2, '[]', '[]', '[]', '[]', '[]', '[]', 1, 'active')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO delivery (id, event_id, subscription_id, guild_id, channel_id, revision,"
                    " action, state, attempts, message_id) VALUES (3, 1, 7, 1, 2, 1, 'post', 'sent', 1, 99)"
                )
            )
        await dbmod.upgrade(database.engine, "0014")
        query = text("SELECT id, subscription_id, message_id FROM delivery")
        async with database.engine.begin() as conn:
            assert (await conn.execute(query)).all() == [(3, 7, 99)]
            # A second subscription of the same channel is allowed now.
            await conn.execute(
                text(
                    "INSERT INTO subscription (id, guild_id, channel_id, kinds, programs, tracks, actors,"
                    " systems, facilities, min_significance, state)"
                    " VALUES (8, 1, 2, '[]', '[]', '[]', '[]', '[]', '[]', 3, 'active')"
                )
            )
        async with database.engine.begin() as conn:
            await conn.execute(text("DELETE FROM subscription WHERE id = 8"))
        await dbmod.downgrade(database.engine, "0013")
        async with database.engine.connect() as conn:
            assert (await conn.execute(query)).all() == [(3, 7, 99)]
    finally:
        await dbmod.upgrade(database.engine)


async def _watch_rows(database: Database) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    async with database.engine.connect() as conn:
        drafts = (await conn.execute(text("SELECT id, source_id, guid, title FROM draft ORDER BY id"))).all()
        posts = (
            await conn.execute(text("SELECT id, draft_id, channel_id FROM review_post ORDER BY id"))
        ).all()
    return [tuple(r) for r in drafts], [tuple(r) for r in posts]


async def test_dataset_formats_go_down_and_up_keeping_every_draft(database: Database) -> None:
    # 0016 rebuilds ``watch_source`` on SQLite: its drafts (a cascading key) and their review
    # posts must come through down and up again untouched; a dataset source goes on the way down.
    async with database.engine.begin() as conn:
        for sid, fmt in ((1, "atom"), (2, "cns")):
            await conn.execute(
                text(
                    "INSERT INTO watch_source (id, url, format, name, consecutive_failures, paused)"
                    " VALUES (:id, :url, :fmt, :name, 0, false)"
                ),
                {"id": sid, "url": f"https://example.org/{sid}", "fmt": fmt, "name": f"Wire {sid}"},
            )
        for did, sid in ((1, 1), (2, 1), (3, 2)):
            await conn.execute(
                text(
                    "INSERT INTO draft (id, source_id, guid, title, summary, occurred_on, precision, kind,"
                    " significance, links, publisher, item_title, state, announced) VALUES"
                    " (:id, :sid, :guid, :title, '', '2024-05-30', 'day', 'other', 2, '{}',"
                    " 'Wire', :item, 'pending', true)"
                ),
                {"id": did, "sid": sid, "guid": f"g{did}", "title": f"Draft {did}", "item": f"Item {did}"},
            )
        await conn.execute(
            text(
                "INSERT INTO review_post (id, draft_id, guild_id, channel_id, state, edit_due, attempts)"
                " VALUES (1, 2, 10, 20, 'sent', false, 0)"
            )
        )
    before = await _watch_rows(database)
    assert len(before[0]) == 3 and len(before[1]) == 1
    await dbmod.downgrade(database.engine, "0015")
    try:
        drafts, posts = await _watch_rows(database)
        assert drafts == before[0][:2] and posts == before[1]  # the CNS source's draft went with it
        async with database.engine.connect() as conn:
            assert (await conn.execute(text("SELECT id FROM watch_source"))).scalars().all() == [1]
    finally:
        await dbmod.upgrade(database.engine)
    assert await _watch_rows(database) == (before[0][:2], before[1])
    async with database.engine.begin() as conn:  # the widened constraint admits a dataset again
        await conn.execute(
            text(
                "INSERT INTO watch_source (id, url, format, name, consecutive_failures, paused)"
                " VALUES (3, 'https://example.org/3', 'csis', 'CSIS', 0, false)"
            )
        )


async def test_delivery_targets_default_to_a_bot_message_and_go_down(database: Database) -> None:
    # 0020 adds the target, thread, tag and identity columns: a subscription made before posts as
    # it did (the bot's message in its channel), and going down keeps its rows.
    await dbmod.downgrade(database.engine, "0019")
    try:
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO subscription (id, guild_id, channel_id, kinds, programs, tracks, actors,"
                    " systems, facilities, min_significance, state)"
                    " VALUES (7, 1, 2, '[]', '[]', '[]', '[]', '[]', '[]', 1, 'active')"
                )
            )
        await dbmod.upgrade(database.engine, "0020")
        query = text(
            "SELECT target, thread, thread_min, forum_tags, identity, webhook_id, webhook_recreated"
            " FROM subscription"
        )
        async with database.engine.connect() as conn:
            assert [tuple(r) for r in (await conn.execute(query)).all()] == [
                ("channel", False, 4, None, "bot", None, False)
            ]
        await dbmod.downgrade(database.engine, "0019")
        async with database.engine.connect() as conn:
            assert (await conn.execute(text("SELECT id, channel_id FROM subscription"))).all() == [(7, 2)]
    finally:
        await dbmod.upgrade(database.engine)
