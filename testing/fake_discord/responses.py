"""How the bot answers an interaction: the callback, the original response and followups.

The callback must come once, within ``response_deadline`` and with a type allowed for the
interaction; the original response can be edited only after it, a followup sent only after it,
and the first followup after a defer replaces the "thinking" message, as on Discord.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .checks import check_autocomplete_choices, check_message_payload, check_modal
from .constants import EPHEMERAL, IS_COMPONENTS_V2, JSON, LOADING
from .rest import Handler, Rest, error_response, json_response
from .world import FakeMessage, FakeUser, snowflake

_WEBHOOK_MESSAGE = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)"

#: Callback types Discord accepts per interaction type (command, component, autocomplete, modal).
_ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass
class InteractionState:
    id: int
    token: str
    type: int
    user: FakeUser
    guild_id: int | None
    channel_id: int
    dispatched_at: float
    source_message: FakeMessage | None = None
    callback_type: int | None = None
    callback: JSON | None = None
    callback_at: float | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    edits_after_defer: int = 0


def _callback_response(inter: InteractionState, ctype: int, message: FakeMessage | None) -> JSON:
    """The body of a callback sent ``?with_response=true``."""
    resp: JSON = {
        "interaction": {
            "id": str(inter.id),
            "type": inter.type,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
    }
    if message is not None:
        resp["interaction"]["response_message_id"] = str(message.id)
        resp["resource"] = {"type": ctype, "message": message.to_json()}
    return resp


class Responses(Rest):
    """REST plus the interaction callback and the webhook routes of interaction tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.response_deadline = 3.0
        self._interactions: dict[int, InteractionState] = {}
        self._by_token: dict[str, InteractionState] = {}

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        return [
            *super()._route_table(),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("GET", _WEBHOOK_MESSAGE, self._get_webhook_msg),
            ("PATCH", _WEBHOOK_MESSAGE, self._edit_webhook_msg),
            ("DELETE", _WEBHOOK_MESSAGE, self._delete_webhook_msg),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup),
        ]

    def _new_message(self, inter: InteractionState, data: JSON, flags: int = 0) -> FakeMessage:
        msg = FakeMessage(
            id=snowflake(),
            channel_id=inter.channel_id,
            guild_id=inter.guild_id,
            author=self.bot_user.to_json(),
            flags=flags,
            interaction_id=inter.id,
            interaction_user=inter.user,
            webhook_id=self.application_id,
        )
        msg.apply(data)
        self._store(msg)
        return msg

    async def _callback(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        path = "/" + request.match_info["tail"]
        self._validate_openapi("POST", path, body)
        inter = self._interactions.get(int(m["iid"]))
        if inter is None or inter.token != m["token"]:
            self.violation(f"callback for unknown interaction {m['iid']}")
            return error_response(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if inter.callback_type is not None:
            self.violation(f"interaction {inter.id} answered more than once")
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        elapsed = now - inter.dispatched_at
        if elapsed > self.response_deadline:
            self.violation(
                f"interaction {inter.id} answered after {elapsed:.2f}s (deadline {self.response_deadline}s)"
            )
            return error_response(404, 10062, "Unknown interaction")
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            self.violation(f"interaction {inter.id}: callback body without a type")
            return error_response(400, 50035, "Invalid Form Body")
        ctype: int = body["type"]
        data: JSON = body.get("data") or {}
        if "_files" in body:  # a multipart callback: the files belong to the message
            data = {**data, "_files": body["_files"]}
        if ctype not in _ALLOWED_CALLBACKS.get(inter.type, set()):
            self.violation(f"interaction {inter.id} (type {inter.type}): callback type {ctype} not allowed")
            return error_response(400, 50035, "Invalid Form Body")
        where = f"interaction callback type {ctype}"
        message: FakeMessage | None = None
        if ctype in (4, 7):
            self.violations.extend(check_message_payload(data, where, partial=ctype == 7))
            self._check_mentions(where, data)
        if ctype == 4:
            message = self._new_message(
                inter, data, int(data.get("flags") or 0) & (EPHEMERAL | IS_COMPONENTS_V2)
            )
            inter.original = message
        elif ctype == 5:
            message = self._new_message(inter, {}, LOADING | (int(data.get("flags") or 0) & EPHEMERAL))
            inter.original = message
        elif ctype in (6, 7):
            message = inter.source_message
            if message is None:
                self.violation(f"interaction {inter.id}: update callback without a source message")
                return error_response(400, 50035, "Invalid Form Body")
            inter.original = message
            if ctype == 7:
                message.apply(data)
                message.edited_at = time.time()
                message.edits += 1
        elif ctype == 8:
            self.violations.extend(check_autocomplete_choices(data.get("choices")))
        elif ctype == 9:
            self.violations.extend(check_modal(data))
        inter.callback_type, inter.callback, inter.callback_at = ctype, body, now
        await self._notify()
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(_callback_response(inter, ctype, message))
        return web.Response(status=204)

    def _interaction_for_token(self, m: re.Match[str]) -> InteractionState | None:
        inter = self._by_token.get(m["token"])
        if inter is None or m["app"] != str(self.application_id):
            self.violation(f"webhook request for unknown interaction token (app {m['app']})")
            return None
        return inter

    def _webhook_target(self, inter: InteractionState, mid: str) -> FakeMessage | None:
        if mid == "@original":
            return inter.original
        msg = self._messages.get(int(mid))
        return msg if msg is not None and msg.interaction_id == inter.id else None

    async def _get_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        target = self._webhook_target(inter, m["mid"]) if inter else None
        if target is None or target.deleted:
            return error_response(404, 10008, "Unknown Message")
        return json_response(target.to_json())

    async def _edit_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        if inter is None:
            return error_response(404, 10015, "Unknown Webhook")
        path = "/" + request.match_info["tail"]
        if m["mid"] == "@original":
            if inter.callback_type is None:
                self.violation(f"interaction {inter.id}: original response edited before any callback")
                return error_response(404, 10008, "Unknown Message")
            self._validate_openapi("PATCH", path, body)
            self._check_mentions("original response edit", body)
        target = self._webhook_target(inter, m["mid"])
        if target is None or target.deleted:
            return error_response(404, 10008, "Unknown Message")
        self.violations.extend(check_message_payload(body, "webhook message edit", partial=True))
        target.apply(body or {})
        target.flags &= ~LOADING
        target.edited_at = time.time()
        target.edits += 1
        if m["mid"] == "@original":
            inter.edits_after_defer += 1
        await self._notify()
        return json_response(target.to_json())

    async def _delete_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        target = self._webhook_target(inter, m["mid"]) if inter else None
        if target is None or target.deleted:
            return error_response(404, 10008, "Unknown Message")
        target.deleted = True
        await self._notify()
        return web.Response(status=204)

    async def _followup(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        if inter is None:
            return error_response(404, 10015, "Unknown Webhook")
        if inter.callback_type is None:
            self.violation(f"interaction {inter.id}: followup sent before the interaction was answered")
            return error_response(404, 10015, "Unknown Webhook")
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        self.violations.extend(check_message_payload(body, "followup"))
        self._check_mentions("followup", body)
        payload: JSON = body or {}
        flags = int(payload.get("flags") or 0) & (EPHEMERAL | IS_COMPONENTS_V2)
        if inter.callback_type == 5 and inter.original is not None and inter.original.flags & LOADING:
            # The first followup after a deferred response replaces the "thinking" message.
            msg = inter.original
            msg.apply(payload)
            msg.flags &= ~LOADING
        else:
            msg = self._new_message(inter, payload, flags)
        inter.followups.append(msg)
        await self._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(msg.to_json())
        return web.Response(status=204)
