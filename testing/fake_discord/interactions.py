"""Driving the bot as a user would: slash commands, autocomplete, buttons and modals.

Each call builds the INTERACTION_CREATE Discord would send (options typed from the *synced*
command definition, ``resolved`` filled in, the member's permissions), dispatches it on the
gateway and waits for what the bot answers (:class:`InteractionResult`).
"""

# The driving API takes per-call ``timeout`` arguments on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .constants import ADMINISTRATOR, EPHEMERAL, JSON
from .responses import InteractionState, Responses
from .world import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    snowflake,
)


@dataclass
class InteractionResult:
    """What the bot did with one interaction. ``message`` is live (later edits show)."""

    interaction_id: int
    callback_type: int
    callback: JSON
    latency: float
    message: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    choices: list[JSON] = field(default_factory=list)
    modal: JSON | None = None
    _token: str = ""

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[JSON]:
        return self.message.components if self.message else []

    @property
    def flags(self) -> int:
        return self.message.flags if self.message else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


class Interactions(Responses):
    """The whole fake but its server: what a test drives."""

    def _find_command(self, name: str, guild: FakeGuild | None, kind: int = 1) -> JSON:
        pools = ([self.guild_commands.get(guild.id, [])] if guild else []) + [self.global_commands]
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and cmd.get("type", 1) == kind:
                    return cmd
        raise LookupError(f"command /{name} is not registered (did the bot sync its tree?)")

    def _context(
        self, guild: FakeGuild | None, channel: FakeChannel | None, user: FakeUser | FakeMember | None
    ) -> tuple[FakeGuild, FakeChannel, FakeMember]:
        if guild is None and isinstance(user, FakeMember):
            guild = user.guild
        elif guild is None and channel is not None:
            guild = self.guilds[channel.guild_id]
        if guild is None:
            if len(self.guilds) != 1:
                raise ValueError("pass guild= (the fake has more than one guild, or none)")
            guild = next(iter(self.guilds.values()))
        if channel is None:
            channel = next(c for c in guild.channels.values() if c.type == 0)
        if user is None:
            member = guild.members[guild.owner_id]
        elif isinstance(user, FakeMember):
            member = user
        else:
            member = guild.members.get(user.id) or guild.add_member(user)
        return guild, channel, member

    def _base_payload(
        self,
        kind: int,
        guild: FakeGuild,
        channel: FakeChannel,
        member: FakeMember,
        member_permissions: int | None,
    ) -> tuple[InteractionState, JSON]:
        iid = snowflake()
        token = f"aW50ZXJhY3Rpb246{iid}:{secrets.token_urlsafe(24)}"
        # As Discord sends them: the member's permissions in the channel they act in, overwrites applied.
        perms = member.permissions_in(channel) if member_permissions is None else member_permissions
        channel_json = channel.to_json()
        channel_json["permissions"] = str(perms)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_json,
            "member": member.to_json(permissions=perms),
            "app_permissions": str(guild.bot_permissions),
            "locale": member.user.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        inter = InteractionState(iid, token, kind, member.user, guild.id, channel.id, 0.0)
        return inter, payload

    def _option_value(
        self, opt: JSON, value: Any, guild: FakeGuild, resolved: JSON, invoker: FakeMember | None
    ) -> Any:
        kind = opt["type"]
        if kind == 3:
            return str(value)
        if kind == 4:
            return int(value)
        if kind == 5:
            return bool(value)
        if kind == 10:
            return float(value)
        if kind in (6, 9) and isinstance(value, (FakeUser, FakeMember)):
            member = value if isinstance(value, FakeMember) else guild.members.get(value.id)
            user = value.user if isinstance(value, FakeMember) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_json()
            if member is not None:
                perms = member.permissions
                resolved.setdefault("members", {})[str(user.id)] = member.to_json(
                    with_user=False, permissions=perms
                )
            return str(user.id)
        if kind in (8, 9) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            return str(value.id)
        if kind == 7 and isinstance(value, FakeChannel):
            data = value.to_json()
            # The invoking member's permissions in that channel, as Discord resolves channel options.
            perms = invoker.permissions_in(value) if invoker is not None else guild.bot_permissions
            data["permissions"] = str(perms)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if kind == 11 and isinstance(value, FakeAttachment):
            value.url = f"{self.base_url}/attachments/{value.id}/{value.filename}"
            self._attachments[value.id] = value
            resolved.setdefault("attachments", {})[str(value.id)] = value.to_json()
            return str(value.id)
        raise TypeError(f"option {opt['name']!r} (type {kind}) cannot take {value!r}")

    def _build_options(
        self,
        definition: JSON,
        options: Mapping[str, Any],
        subcommand: str | None,
        guild: FakeGuild,
        resolved: JSON,
        focused: str | None = None,
        invoker: FakeMember | None = None,
    ) -> list[JSON]:
        path = subcommand.split() if subcommand else []
        level: list[JSON] = definition.get("options") or []
        chain: list[JSON] = []
        for part in path:
            node = next((o for o in level if o["name"] == part and o["type"] in (1, 2)), None)
            if node is None:
                raise LookupError(f"/{definition['name']} has no subcommand {part!r}")
            chain.append({"type": node["type"], "name": part, "options": []})
            level = node.get("options") or []
        if any(o["type"] in (1, 2) for o in level):
            raise ValueError(f"/{definition['name']} needs subcommand= (one of {[o['name'] for o in level]})")
        built: list[JSON] = []
        for name, value in options.items():
            opt = next((o for o in level if o["name"] == name), None)
            if opt is None:
                raise LookupError(f"/{definition['name']} {subcommand or ''} has no option {name!r}")
            if name == focused:
                built.append({"name": name, "type": opt["type"], "value": str(value), "focused": True})
            else:
                built.append(
                    {
                        "name": name,
                        "type": opt["type"],
                        "value": self._option_value(opt, value, guild, resolved, invoker),
                    }
                )
        if focused is None:
            missing = [o["name"] for o in level if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"missing required option(s) {missing} (Discord would not send this)")
        if not chain:
            return built
        chain[-1]["options"] = built
        for outer, inner in zip(chain[-2::-1], chain[:0:-1], strict=True):
            outer["options"] = [inner]
        return [chain[0]]

    async def _send_interaction(self, inter: InteractionState, payload: JSON) -> None:
        self._interactions[inter.id] = inter
        self._by_token[inter.token] = inter
        inter.dispatched_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)

    async def _outcome(self, inter: InteractionState, timeout: float) -> InteractionResult:
        try:
            await self.wait_for(
                lambda: inter.callback_type is not None, timeout, f"a callback to interaction {inter.id}"
            )
        except TimeoutError:
            self.violation(f"interaction {inter.id} was never answered")
            raise
        if inter.callback_type in (5, 6):
            await self.wait_for(
                lambda: inter.edits_after_defer > 0 or bool(inter.followups),
                timeout,
                f"the response after deferring interaction {inter.id}",
            )
        assert inter.callback is not None
        assert inter.callback_type is not None
        assert inter.callback_at is not None
        data = inter.callback.get("data") or {}
        message = inter.original
        if inter.callback_type == 5 and inter.followups and inter.edits_after_defer == 0:
            message = inter.followups[0]
        return InteractionResult(
            interaction_id=inter.id,
            callback_type=inter.callback_type,
            callback=inter.callback,
            latency=inter.callback_at - inter.dispatched_at,
            message=message,
            followups=inter.followups,
            choices=list(data.get("choices") or []) if inter.callback_type == 8 else [],
            modal=data if inter.callback_type == 9 else None,
            _token=inter.token,
        )

    async def invoke(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        user: FakeUser | FakeMember | None = None,
        member_permissions: int | None = None,
        bypass_default_permissions: bool = False,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Run a slash command as ``user`` and return what the bot answered."""
        guild, channel, member = self._context(guild, channel, user)
        definition = self._find_command(name, guild)
        # Discord shows a command by the member's permissions in the channel (overwrites count).
        perms = member.permissions_in(channel) if member_permissions is None else member_permissions
        required = definition.get("default_member_permissions")
        hidden = required is not None and int(required) & perms != int(required)
        if hidden and not bypass_default_permissions and not perms & ADMINISTRATOR:
            raise PermissionError(f"Discord hides /{name} from this member (default_member_permissions)")
        inter, payload = self._base_payload(2, guild, channel, member, member_permissions)
        resolved: JSON = {}
        data: JSON = {
            "id": definition["id"],
            "name": name,
            "type": 1,
            "options": self._build_options(
                definition, options or {}, subcommand, guild, resolved, invoker=member
            ),
        }
        if resolved:
            data["resolved"] = resolved
        if definition.get("guild_id"):
            data["guild_id"] = definition["guild_id"]
        payload["data"] = data
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        user: FakeUser | FakeMember | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Type into option ``focused`` and return the bot's autocomplete choices."""
        guild, channel, member = self._context(guild, channel, user)
        definition = self._find_command(name, guild)
        inter, payload = self._base_payload(4, guild, channel, member, None)
        resolved: JSON = {}
        merged = {**(options or {}), focused: value}
        payload["data"] = {
            "id": definition["id"],
            "name": name,
            "type": 1,
            "options": self._build_options(
                definition, merged, subcommand, guild, resolved, focused=focused, invoker=member
            ),
        }
        await self._send_interaction(inter, payload)
        return (await self._outcome(inter, timeout)).choices

    async def press(
        self,
        message: FakeMessage | InteractionResult,
        custom_id: str,
        *,
        user: FakeUser | FakeMember | None = None,
        values: Sequence[str] | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Click a button (or choose ``values`` in a select) on a message the bot sent."""
        if isinstance(message, InteractionResult):
            if message.message is None:
                raise ValueError("that interaction produced no message")
            message = message.message
        component = message.find_component(custom_id)
        if component is None:
            raise LookupError(f"no component {custom_id!r} on message {message.id}: {message.custom_ids()}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not send the click")
        guild = self.guilds.get(message.guild_id or 0)
        channel = self._channels.get(message.channel_id)
        guild, channel, member = self._context(guild, channel, user)
        inter, payload = self._base_payload(3, guild, channel, member, None)
        inter.source_message = message
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        payload["data"] = data
        payload["message"] = message.to_json()
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)

    async def submit_modal(
        self,
        opened: InteractionResult,
        values: Mapping[str, str | Sequence[str]],
        *,
        user: FakeUser | FakeMember | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Fill in and submit the modal that ``opened`` (a type 9 result) showed."""
        modal = opened.modal
        if modal is None:
            raise ValueError("that interaction did not open a modal")
        source = self._interactions[opened.interaction_id]
        guild = self.guilds.get(source.guild_id or 0)
        channel = self._channels.get(source.channel_id)
        guild, channel, member = self._context(guild, channel, user or source.user)

        def fill(comp: JSON) -> JSON:
            kind = comp.get("type")
            if kind == 1:
                return {"type": 1, "components": [fill(c) for c in comp.get("components") or []]}
            if kind == 18:
                return {"type": 18, "id": comp.get("id", 0), "component": fill(comp["component"])}
            out: JSON = {"type": kind, "custom_id": comp.get("custom_id")}
            if "id" in comp:
                out["id"] = comp["id"]
            value = values.get(str(comp.get("custom_id")), comp.get("value", ""))
            if kind == 4:
                out["value"] = value if isinstance(value, str) else ",".join(value)
            else:
                out["values"] = [value] if isinstance(value, str) else list(value)
            return out

        inter, payload = self._base_payload(5, guild, channel, member, None)
        inter.source_message = source.original if source.type == 3 else None
        payload["data"] = {
            "custom_id": modal["custom_id"],
            "components": [fill(c) for c in modal["components"]],
        }
        if source.type == 3 and source.source_message is not None:
            inter.source_message = source.source_message
            payload["message"] = source.source_message.to_json()
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)
