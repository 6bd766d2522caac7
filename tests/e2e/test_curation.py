"""``/curate`` end to end: permissions, validation, publish with alerts, edit and retract reaching
posted alerts, scope isolation between guilds, import (silent unless asked), export and the log."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeAttachment, FakeDiscord
from tests.conftest import Database

from .bot_process import MY_EXTENSIONS, SAMPLE_CORPUS, Staff, load_sample, running_bot
from .test_dispatcher import wait_deliveries

ADD = {
    "kind": "missile_launch",
    "title": "Hwasong-19 launch from Pyongyang",
    "date": "2024-10-31",
    "summary": "A solid-fuel ICBM flies on a lofted trajectory for 86 minutes.",
    "source_url": "https://www.yna.co.kr/view/AEN20241031000351315",
    "programs": "icbm",
    "parties": "dprk",
    "significance": 4,
}


@pytest.fixture
async def staff(fake_discord: FakeDiscord) -> Staff:
    return Staff(fake_discord, "Home")


@pytest.fixture
async def bot(fake_discord: FakeDiscord, staff: Staff, sqlite_db: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[staff.guild.id]) as client:
        yield client


async def count(db: Database, model: Any) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def subscribe(fake: FakeDiscord, staff: Staff, *indexes: int) -> None:
    for i in indexes:
        await fake.invoke(
            "alerts",
            {"channel": staff.channel(i)},
            subcommand="subscribe",
            guild=staff.guild,
        )


async def test_permission_matrix(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    with pytest.raises(PermissionError):  # hidden by default_member_permissions
        await fake_discord.invoke("curate", ADD, subcommand="add", user=staff.reader)
    for member in (staff.reader, staff.channel_manager):
        refused = await fake_discord.invoke(
            "curate", ADD, subcommand="add", user=member, bypass_default_permissions=True
        )
        assert refused.ephemeral
        assert refused.content == (
            "You need the Manage Server permission or this server's curator role to do this."
        )
    assert await count(sqlite_db, models.Event) == 3
    by_role = await fake_discord.invoke(
        "curate", ADD, subcommand="add", user=staff.curator, bypass_default_permissions=True
    )
    assert by_role.content.startswith("Published event #")
    by_admin = await fake_discord.invoke(
        "curate", {**ADD, "title": "Another"}, subcommand="add", user=staff.admin
    )
    assert by_admin.content.startswith("Published event #")
    # Once a curator role is configured, the default role name no longer counts.
    editors = staff.guild.add_role("Editors")
    await fake_discord.invoke("settings", {"role": editors}, subcommand="curator-role", user=staff.admin)
    refused = await fake_discord.invoke(
        "curate",
        {**ADD, "title": "Third"},
        subcommand="add",
        user=staff.curator,
        bypass_default_permissions=True,
    )
    assert "curator role" in refused.content
    assert await count(sqlite_db, models.Event) == 5


async def test_add_validates_and_writes_nothing_on_bad_input(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    await subscribe(fake_discord, staff, 0)
    bad = {**ADD, "date": "2024-13-01", "source_url": "ftp://example.org/x", "programs": "icbm, warp-drive"}
    result = await fake_discord.invoke("curate", bad, subcommand="add")
    assert result.ephemeral
    assert "date: “2024-13-01” is not a real date" in result.content
    assert "must be an http:// or https:// address" in result.content
    future = await fake_discord.invoke("curate", {**ADD, "date": "2999"}, subcommand="add")
    assert "date: must be between 1900" in future.content
    unknown = await fake_discord.invoke("curate", {**ADD, "programs": "warp-drive"}, subcommand="add")
    assert "“warp-drive” is not known" in unknown.content
    bidi = await fake_discord.invoke("curate", {**ADD, "title": "Launch \u202e reversed"}, subcommand="add")
    assert "bidirectional" in bidi.content
    assert await count(sqlite_db, models.Event) == 3
    assert await count(sqlite_db, models.Delivery) == 0
    assert fake_discord.channel_messages(staff.channel(0).id) == []


async def test_add_publishes_and_alerts_quickly(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    await subscribe(fake_discord, staff, 0, 1)
    choices = await fake_discord.autocomplete("curate", "parties", "dprk, chi", subcommand="add")
    assert choices[0]["value"] == "dprk, china"
    text = {**ADD, "title": "Launch mentioning @everyone and <@&1>"}
    started = time.monotonic()
    result = await fake_discord.invoke("curate", text, subcommand="add")
    await fake_discord.wait_for(lambda: bool(fake_discord.channel_messages(staff.channel(0).id)), 2, "alert")
    first_alert = time.monotonic() - started
    assert result.ephemeral
    assert "shared with every server" in result.content
    assert result.embeds[0]["title"] == text["title"]
    assert first_alert < 1.0  # target 200 ms; the bound leaves room for a loaded CI machine
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 2)
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["title"] == text["title"]
    assert alert.allowed_mentions == {"parse": []}  # text that looks like a mention pings nobody
    sources = next(f for f in alert.embeds[0]["fields"] if f["name"] == "Sources")
    assert "yna.co.kr" in sources["value"]


async def test_edit_opens_prefilled_form_and_updates_posted_alerts(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    await subscribe(fake_discord, staff, 0, 1)
    published = await fake_discord.invoke("curate", ADD, subcommand="add")
    event_id = int(published.content.split("#")[1].split()[0])
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 2)
    found = await fake_discord.autocomplete("curate", "id", "Hwasong", subcommand="edit")
    assert found[0]["value"] == str(event_id)
    opened = await fake_discord.invoke("curate", {"id": str(event_id)}, subcommand="edit")
    assert opened.modal is not None
    prefilled = json.dumps(opened.modal)
    assert "Hwasong-19 launch from Pyongyang" in prefilled and "2024-10-31" in prefilled
    assert "kind: missile_launch" in prefilled
    saved = await fake_discord.submit_modal(
        opened,
        {
            "title": "Hwasong-19 ICBM launch (revised)",
            "tags": "kind: missile_launch\nsignificance: 5\nprograms: icbm\nparties: dprk",
        },
    )
    assert saved.ephemeral
    assert f"Saved event #{event_id} (revision 2)" in saved.content
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 4)
    for i in (0, 1):
        [alert] = fake_discord.channel_messages(staff.channel(i).id)
        assert alert.embeds[0]["title"] == "[Updated] Hwasong-19 ICBM launch (revised)"
        assert "★★★★★" in json.dumps(alert.embeds[0], ensure_ascii=False)
    bad = await fake_discord.invoke("curate", {"id": str(event_id)}, subcommand="edit")
    rejected = await fake_discord.submit_modal(bad, {"date": "31/10/2024"})
    assert rejected.ephemeral and "is not YYYY, YYYY-MM or YYYY-MM-DD" in rejected.content

    retracted = await fake_discord.invoke(
        "curate", {"id": str(event_id), "reason": "Duplicate report"}, subcommand="retract"
    )
    assert "is retracted" in retracted.content
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 6)
    for i in (0, 1):
        [alert] = fake_discord.channel_messages(staff.channel(i).id)
        assert alert.embeds[0]["title"].startswith("[Retracted]")
        assert alert.content.startswith("**Retracted:**")
    again = await fake_discord.invoke(
        "curate", {"id": str(event_id), "reason": "again"}, subcommand="retract"
    )
    assert "already retracted" in again.content
    nonsense = await fake_discord.invoke("curate", {"id": "hwasong"}, subcommand="edit")
    assert "is not an event number" in nonsense.content


@pytest.fixture
async def others(fake_discord: FakeDiscord, staff: Staff) -> tuple[Staff, Staff]:
    """Two more guilds, neither of them a home guild (made before the bot connects)."""
    return Staff(fake_discord, "Other", channels=1), Staff(fake_discord, "Third", channels=1)


async def test_scope_isolation_between_guilds(
    fake_discord: FakeDiscord,
    staff: Staff,
    others: tuple[Staff, Staff],
    bot: PeninsulaBot,
    sqlite_db: Database,
) -> None:
    other, third = others
    for s in (staff, other, third):
        await subscribe(fake_discord, s, 0)
    local = await fake_discord.invoke(
        "curate", {**ADD, "title": "Local note"}, subcommand="add", guild=other.guild
    )
    assert "local to this server" in local.content
    local_id = local.content.split("#")[1].split()[0]
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    assert len(fake_discord.channel_messages(other.channel(0).id)) == 1
    assert fake_discord.channel_messages(staff.channel(0).id) == []
    assert fake_discord.channel_messages(third.channel(0).id) == []
    # Invisible elsewhere: not offered, not editable, not exported.
    assert (
        await fake_discord.autocomplete("curate", "id", "Local", subcommand="edit", guild=third.guild) == []
    )
    hidden = await fake_discord.invoke("curate", {"id": local_id}, subcommand="edit", guild=third.guild)
    assert hidden.content == f"No event matches “#{local_id}”."
    shared = await fake_discord.invoke(
        "curate", {**ADD, "title": "Shared note"}, subcommand="add", guild=staff.guild
    )
    assert "shared with every server" in shared.content
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 4)
    for s in (staff, other, third):
        assert fake_discord.channel_messages(s.channel(0).id)[-1].embeds[0]["title"] == "Shared note"
    # A non-home curator cannot change a shared event.
    shared_id = shared.content.split("#")[1].split()[0]
    refused = await fake_discord.invoke(
        "curate", {"id": shared_id, "reason": "not yours"}, subcommand="retract", guild=other.guild
    )
    assert "home server" in refused.content


def native_file(*titles: str) -> FakeAttachment:
    records = [
        {
            "title": title,
            "date": "2017-07-04",
            "kind": "missile_launch",
            "summary": "Imported for a test.",
            "significance": 4,
            "programs": ["icbm"],
            "sources": [{"publisher": "CNS", "title": "Missile test database"}],
        }
        for title in titles
    ]
    return FakeAttachment("events.json", json.dumps(records).encode(), "application/json")


async def test_import_is_silent_unless_asked(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    await subscribe(fake_discord, staff, 0)
    dry = await fake_discord.invoke(
        "curate", {"file": native_file("Hwasong-14 first flight"), "dry_run": True}, subcommand="import"
    )
    assert dry.ephemeral
    assert "dry run" in dry.content
    assert await count(sqlite_db, models.Event) == 3
    broken = await fake_discord.invoke(
        "curate", {"file": FakeAttachment("x.json", b'[{"title": 5}]')}, subcommand="import"
    )
    assert "nothing was written" in broken.content and "row 1" in broken.content
    quiet = await fake_discord.invoke(
        "curate", {"file": native_file("Hwasong-14 first flight")}, subcommand="import"
    )
    assert "1 created" in quiet.content
    assert await count(sqlite_db, models.Event) == 4
    assert await count(sqlite_db, models.Delivery) == 0
    loud = await fake_discord.invoke(
        "curate", {"file": native_file("Hwasong-14 second flight"), "alert": True}, subcommand="import"
    )
    assert "1 alerts queued" in loud.content
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["title"] == "Hwasong-14 second flight"


async def test_import_report_reaches_every_problem(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    """40 broken rows: the message shows whole lines within Discord's limit, never "… and N more", and
    the attached report names every row, so no problem is out of reach."""
    rows = [{"title": f"Broken row {i}", "date": f"2017-13-{i:02d}"} for i in range(1, 41)]
    upload = FakeAttachment("events.json", json.dumps(rows).encode(), "application/json")
    reply = await fake_discord.invoke("curate", {"file": upload}, subcommand="import")
    assert reply.ephemeral and "nothing was written" in reply.content
    assert len(reply.content) <= 2000 and "more problems" not in reply.content
    assert (
        "Shown here: 15 of 120 problems." in reply.content
    )  # 3 per row and "import-report.txt" in reply.content
    assert reply.message is not None
    [attachment] = reply.message.attachments
    assert attachment["filename"] == "import-report.txt"
    async with aiohttp.ClientSession() as http, http.get(attachment["url"]) as response:
        report = await response.text()
    for i in range(1, 41):
        assert f"row {i}, date: “2017-13-{i:02d}”" in report, f"row {i} missing from the report"
    assert report.count("\nrow ") == 120
    assert await count(sqlite_db, models.Event) == 3


async def test_import_report_without_overflow_has_no_file(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    upload = FakeAttachment("events.json", b'[{"title": 5}]', "application/json")
    reply = await fake_discord.invoke("curate", {"file": upload}, subcommand="import")
    assert "row 1" in reply.content and reply.message is not None and not reply.message.attachments


async def test_export_and_log(fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot) -> None:
    for i in range(11):
        await fake_discord.invoke("curate", {**ADD, "title": f"Launch number {i}"}, subcommand="add")
    exported = await fake_discord.invoke("curate", {"format": "csv"}, subcommand="export")
    assert exported.ephemeral
    assert exported.message is not None and exported.message.attachments
    assert exported.message.attachments[0]["filename"] == "peninsula-brief-events.csv"
    first = await fake_discord.invoke("curate", subcommand="log")
    assert first.ephemeral
    description = first.embeds[0]["description"]
    assert description.count("event.create") == 10
    assert "Launch number 10" in description and "Launch number 0" not in description
    assert first.message is not None
    newer_id, older_id = first.message.custom_ids()
    newer_button = first.message.find_component(newer_id)
    assert newer_id.startswith("pb:log:") and newer_button is not None and newer_button["disabled"]
    older = await fake_discord.press(first, older_id)
    assert "Launch number 0" in older.embeds[0]["description"]
    assert older.embeds[0]["description"].count("event.create") == 1
    assert first.embeds[0]["footer"]["text"].startswith("Page 2")
    newer_id, older_id = first.message.custom_ids()
    older_button = first.message.find_component(older_id)
    assert older_button is not None and older_button["disabled"]
    newer = await fake_discord.press(first, newer_id)
    assert "Launch number 10" in newer.embeds[0]["description"]
    assert first.embeds[0]["description"] == description
    assert first.embeds[0]["footer"]["text"].startswith("Page 1")
    _newer_id, older_id = first.message.custom_ids()
    stranger = await fake_discord.press(first, older_id, user=staff.curator)
    assert stranger.ephemeral and "Only the person" in stranger.content
    assert first.embeds[0]["description"] == description


async def test_log_paging_survives_a_restart(
    fake_discord: FakeDiscord, staff: Staff, database: Database
) -> None:
    await load_sample(database)
    async with running_bot(fake_discord, database, home_guild_ids=[staff.guild.id]) as first_bot:
        for i in range(11):
            await fake_discord.invoke("curate", {**ADD, "title": f"Launch number {i}"}, subcommand="add")
        first = await fake_discord.invoke("curate", subcommand="log")
        assert first.message is not None
        page1 = first.embeds[0]["description"]
        assert "Launch number 0" not in page1
    assert first_bot.is_closed()
    async with running_bot(fake_discord, database, home_guild_ids=[staff.guild.id]) as second_bot:
        assert second_bot is not first_bot
        _newer_id, older_id = first.message.custom_ids()
        turned = await fake_discord.press(first, older_id)
        assert turned.callback_type == 7
        page2 = first.embeds[0]["description"]
        assert "Launch number 0" in page2 and "Launch number 10" not in page2
        assert first.embeds[0]["footer"]["text"].startswith("Page 2")
        newer_id, _older_id = first.message.custom_ids()
        await fake_discord.press(first, newer_id)
        assert first.embeds[0]["description"] == page1


async def test_list_and_event_options_resolve_typed_and_picked_alike(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    programs = await fake_discord.autocomplete("curate", "programs", "ICBM, Tong", subcommand="add")
    assert programs[0] == {"name": "icbm, Space launch", "value": "icbm, space-launch"}
    [track] = await fake_discord.autocomplete("curate", "track", "six", subcommand="add")
    assert track["value"] == "six-party"
    picked = await fake_discord.invoke(
        "curate",
        {**ADD, "programs": programs[0]["value"], "parties": "dprk, china", "track": track["value"]},
        subcommand="add",
    )
    # Typed without picking: a facility, a misspelt party, a party alias, a track prefix.
    typed = await fake_discord.invoke(
        "curate",
        {**ADD, "programs": "icbm, Sohae", "parties": "Nroth Korea, Beijing", "track": "six"},
        subcommand="add",
    )
    for result in (picked, typed):
        assert result.content.startswith("Published event #"), result.content
        fields = {f["name"]: f["value"] for f in result.embeds[0]["fields"]}
        assert fields["Programs"] == "Intercontinental ballistic missiles, Space launch"
        assert fields["Parties"] == "North Korea, China"
        assert fields["Talks"] == "Six-party talks"
    picked_id, typed_id = (r.content.split("#")[1].split()[0] for r in (picked, typed))
    kinds = await fake_discord.autocomplete("alerts", "kinds", "missile_launch, nucl", subcommand="subscribe")
    assert kinds[0]["value"] == "missile_launch, nuclear_test"
    for value in (kinds[0]["value"], "Missile launch, nuclear"):
        subscribed = await fake_discord.invoke(
            "alerts",
            {"channel": staff.channel(0), "kinds": value, "parties": "pyong"},
            subcommand="subscribe",
        )
        assert "kinds: missile_launch, nuclear_test; parties: dprk" in subscribed.content, subscribed.content
    # An event is its number or the words of one title: /curate retract resolves as /event does.
    suggested = await fake_discord.autocomplete("curate", "id", "Hwasong-19", subcommand="retract")
    assert {c["value"] for c in suggested} == {picked_id, typed_id}
    ambiguous = await fake_discord.invoke(
        "curate", {"id": "Hwasong-19", "reason": "Duplicate report"}, subcommand="retract"
    )
    assert "is not an event number" in ambiguous.content and "did you mean #" in ambiguous.content
    first = await fake_discord.invoke(
        "curate", {"id": suggested[0]["value"], "reason": "Duplicate report"}, subcommand="retract"
    )
    assert first.content.startswith(f"Event #{suggested[0]['value']} is retracted.")
    # One published event now matches the title: typed words resolve to it.
    other = ({picked_id, typed_id} - {suggested[0]["value"]}).pop()
    second = await fake_discord.invoke(
        "curate", {"id": "Hwasong-19 launch", "reason": "Duplicate report"}, subcommand="retract"
    )
    assert second.content == f"Event #{other} is retracted. Alerts already posted are being marked."


SEEDED = {
    "id": "hwasong-18-2023-04",
    "kind": "missile_launch",
    "date": "2023-04-13",
    "title": "Hwasong-18 first flight",
    "summary": "The first solid-fuel ICBM flight.",
    "significance": 4,
    "programs": ["icbm"],
    "actors": ["dprk"],
    "sources": [{"publisher": "Yonhap", "title": "North Korea fires a new solid-fuel ICBM"}],
}


def corpus_with(tmp_path: Path, event: dict[str, Any]) -> Path:
    """The sample corpus and one more event, as a corpus file of its own."""
    doc = yaml.safe_load(SAMPLE_CORPUS.read_text("utf-8"))
    doc["events"].append(event)
    path = tmp_path / "corpus.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


async def test_seed_update_edits_the_posted_alert(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database, tmp_path: Path
) -> None:
    await subscribe(fake_discord, staff, 0)
    # A corpus event that reached the channel: imported with alerts from a file of the corpus's ids.
    record = {k: v for k, v in SEEDED.items() if k != "id"} | {"external_id": f"seed:{SEEDED['id']}"}
    upload = FakeAttachment("corpus-events.json", json.dumps([record]).encode(), "application/json")
    loud = await fake_discord.invoke("curate", {"file": upload, "alert": True}, subcommand="import")
    assert "1 created" in loud.content and "1 alerts queued" in loud.content
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["title"] == "Hwasong-18 first flight"
    audit_before = await count(sqlite_db, models.AuditLog)

    corrected = corpus_with(tmp_path, {**SEEDED, "title": "Hwasong-18 first flight from Pyongyang"})
    report = await load(sqlite_db.sessionmaker, read_corpus(files=[corrected]))
    assert report.updated["events"] == 1 and report.alerts == 1
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 2)
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["title"] == "[Updated] Hwasong-18 first flight from Pyongyang"
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.AuditLog))).all()
    [edit] = [a for a in rows if a.action == "event.edit"]
    assert edit.details["via"] == "seed" and edit.details["file"] == "corpus.yaml"
    assert edit.details["revision"] == 2
    assert await count(sqlite_db, models.AuditLog) == audit_before + 1

    # The same corpus again changes nothing: no audit row, no delivery, the alert as it was.
    again = await load(sqlite_db.sessionmaker, read_corpus(files=[corrected]))
    assert again.updated["events"] == 0 and again.unchanged["events"] == 4 and again.alerts == 0
    assert await count(sqlite_db, models.AuditLog) == audit_before + 1
    assert await count(sqlite_db, models.Delivery) == 2
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["title"] == "[Updated] Hwasong-18 first flight from Pyongyang"


async def test_import_merges_a_dataset_row_into_the_curated_event(
    fake_discord: FakeDiscord, staff: Staff, sqlite_db: Database
) -> None:
    await load_sample(sqlite_db)
    extensions = (*MY_EXTENSIONS, "cogs.briefing")  # /event shows the merged source
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], extensions=extensions):
        await _import_merges(fake_discord, sqlite_db)


async def _import_merges(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    async with sqlite_db.sessionmaker() as s:
        unha = await s.scalar(
            select(models.Event.id).where(models.Event.external_id == "seed:unha-3-2012-12")
        )
    excerpt = (Path(__file__).parents[1] / "fixtures" / "cns-excerpt.csv").read_bytes()

    def cns_file() -> FakeAttachment:
        return FakeAttachment("cns.csv", excerpt, "text/csv")

    dry = await fake_discord.invoke(
        "curate", {"file": cns_file(), "format": "cns", "dry_run": True}, subcommand="import"
    )
    assert dry.ephemeral and "dry run" in dry.content
    assert "10 created" in dry.content and "1 merged into events already recorded" in dry.content
    assert (
        f"row 5 (cns:33): merged into #{unha} (Unha-3 places a satellite in orbit from Sohae)" in dry.content
    )
    assert await count(sqlite_db, models.Event) == 3

    real = await fake_discord.invoke("curate", {"file": cns_file(), "format": "cns"}, subcommand="import")
    assert f"merged into #{unha}" in real.content and "10 created" in real.content
    assert await count(sqlite_db, models.Event) == 13
    page = await fake_discord.invoke("event", {"id": str(unha)})
    sources = next(f["value"] for f in page.embeds[0]["fields"] if f["name"].startswith("Sources"))
    assert "CNS North Korea Missile Test Database, record 33" in sources and "Success" in sources

    again = await fake_discord.invoke("curate", {"file": cns_file(), "format": "cns"}, subcommand="import")
    assert "0 created" in again.content and "11 unchanged" in again.content
    assert f"row 5 (cns:33): already merged into #{unha}" in again.content
    assert await count(sqlite_db, models.Event) == 13
