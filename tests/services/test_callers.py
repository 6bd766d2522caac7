"""Every entry point of the services that act for a member takes the caller and checks it: a caller
without the right is refused, and a caller from another guild never sees another guild's
subscriptions or local events (on SQLite and PostgreSQL)."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest

from bot.services.curation import CurationService
from bot.services.errors import Conflict, NotFound, PermissionDenied
from bot.services.guild_settings import GuildSettingsService
from bot.services.subscriptions import Filters, SubscriptionService
from tests.services.conftest import HOME, OTHER, Services, curator, member
from tests.services.test_services import event_input

# Entry points no member calls: the outbox worker turning a subscription off after a 403/404, and the
# server's chosen language and time zone, read to shape every reply and alert (nothing a member owns).
NO_MEMBER = {"SubscriptionService.disable", "GuildSettingsService.presentation"}


@pytest.mark.parametrize("service", [CurationService, SubscriptionService, GuildSettingsService])
def test_every_entry_point_takes_the_caller_first(service: type) -> None:
    for name, method in inspect.getmembers(service, inspect.iscoroutinefunction):
        if name.startswith("_") or f"{service.__name__}.{name}" in NO_MEMBER:
            continue
        params = list(inspect.signature(method).parameters)
        assert params[1:2] == ["caller"], f"{service.__name__}.{name} does not take the caller first"


async def test_the_edit_form_is_only_for_curators_of_the_events_scope(services: Services) -> None:
    shared = await services.curation.create(curator(HOME), event_input())
    local = await services.curation.create(curator(OTHER), event_input(title="A local note"))
    with pytest.raises(PermissionDenied, match="Manage Server"):
        await services.curation.edit_input(member(HOME), shared.id)
    with pytest.raises(PermissionDenied, match="Manage Server"):
        await services.curation.edit_input(member(OTHER), local.id)
    # Another guild's local event reads exactly as an event that does not exist.
    with pytest.raises(NotFound) as hidden:
        await services.curation.edit_input(curator(HOME), local.id)
    with pytest.raises(NotFound) as missing:
        await services.curation.edit_input(curator(HOME), local.id + 1000)
    assert str(hidden.value).replace(str(local.id), "N") == str(missing.value).replace(
        str(local.id + 1000), "N"
    )
    form = await services.curation.edit_input(curator(OTHER), local.id)
    assert (form.data.title, form.revision) == ("A local note", 1)


async def test_subscriptions_are_read_by_channel_managers_of_their_guild_only(services: Services) -> None:
    subs = services.subscriptions
    await subs.subscribe(curator(HOME).in_channel(10), 10, Filters(programs=["icbm"]))
    await subs.subscribe(curator(OTHER).in_channel(20), 20)
    for call in (subs.list(member(HOME)), subs.get(member(HOME).in_channel(10), 10)):
        with pytest.raises(PermissionDenied, match="Manage Channels"):
            await call
    with pytest.raises(PermissionDenied, match="View Channel permission in <#10>"):
        await subs.get(curator(HOME), 10)
    assert [s.channel_id for s in await subs.list(curator(HOME))] == [10]
    assert [s.channel_id for s in await subs.list(curator(OTHER))] == [20]
    # Another guild's channel: not found, as any channel without a subscription.
    with pytest.raises(NotFound):
        await subs.get(curator(OTHER).in_channel(10), 10)
    with pytest.raises(NotFound):
        await subs.unsubscribe(curator(OTHER).in_channel(10), 10)
    assert [s.channel_id for s in await subs.list(curator(HOME))] == [10]
    assert (await subs.get(curator(HOME).in_channel(10), 10)).programs == ("icbm",)


async def test_a_form_saved_against_an_older_revision_writes_nothing(services: Services) -> None:
    created = await services.curation.create(curator(HOME), event_input())
    first = await services.curation.edit_input(curator(HOME), created.id)
    second = await services.curation.edit_input(curator(HOME, user=7), created.id)
    saved = await services.curation.edit(
        curator(HOME), created.id, replace(first.data, title="First save"), seen_revision=first.revision
    )
    assert saved.revision == 2
    with pytest.raises(Conflict, match="changed while your form was open"):
        await services.curation.edit(
            curator(HOME, user=7), created.id, replace(second.data, title="Second save"), seen_revision=1
        )
    current = await services.curation.edit_input(curator(HOME), created.id)
    assert (current.data.title, current.revision) == ("First save", 2)
