"""The gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, sequence numbers, RESUME.

Every DISPATCH is numbered and kept, so a client that lost its socket (``drop_gateway``) resumes
and gets what it missed, then RESUMED. Frames are TEXT: discord.py asks for zlib-stream but reads
TEXT frames as plain JSON.

Sharding as Discord does it: one session per shard. IDENTIFY with ``shard: [i, n]`` (``[0, 1]``
when absent) gets only the guilds with ``(guild_id >> 22) % n == i``, and a guild's events go to
its shard's session only; a second IDENTIFY for the same shard takes the session from the first
(whose socket is closed, and whose RESUME is answered "invalid session"). ``shard_count`` is what
``GET /gateway/bot`` recommends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .constants import JSON, PRIVILEGED_INTENTS
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, World


def shard_for(guild_id: int, shard_count: int) -> int:
    """The shard a guild's events go to (Discord's formula)."""
    return (guild_id >> 22) % shard_count


@dataclass
class _Session:
    id: str
    shard: tuple[int, int] = (0, 1)
    seq: int = 0
    events: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=5000))
    ws: web.WebSocketResponse | None = None


class Gateway(World):
    """The world plus one gateway session a discord.py client connects to."""

    def __init__(self) -> None:
        super().__init__()
        self.heartbeat_interval = 41.25
        self.gateway_connects: list[str] = []  # path of each websocket connection
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.identify_payloads: list[JSON] = []
        #: What ``GET /gateway/bot`` recommends.
        self.shard_count = 1
        #: The live session of each shard id.
        self.sessions: dict[int, _Session] = {}
        self._ws_tasks: set[web.WebSocketResponse] = set()
        self._background: set[asyncio.Task[int]] = set()

    async def wait_ready(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a client has identified and received READY and its guilds."""
        await self.wait_for(lambda: self.identifies > 0, timeout, "IDENTIFY")

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: self.resumes >= count, timeout, f"RESUME #{count}")

    def session_for(self, guild_id: int | None) -> _Session | None:
        """The session that receives ``guild_id``'s events (shard 0 for events of no guild)."""
        for session in self.sessions.values():
            shard_id, count = session.shard
            if (shard_for(guild_id, count) if guild_id is not None else 0) == shard_id:
                return session
        return None

    def _guild_added(self, guild: FakeGuild) -> None:
        session = self.session_for(guild.id)
        if session is not None and session.ws is not None:
            payload = guild.create_payload()
            del payload["unavailable"]  # absent on a join, as Discord sends it (→ on_guild_join)
            task = asyncio.get_running_loop().create_task(self.dispatch("GUILD_CREATE", payload))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def set_permissions(
        self, channel: FakeChannel, target: FakeRole | FakeMember, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a channel permission overwrite and tell a connected client (CHANNEL_UPDATE)."""
        channel.set_overwrite(target, allow=allow, deny=deny)
        if self.session_for(channel.guild_id) is not None:
            await self.dispatch("CHANNEL_UPDATE", channel.to_json())

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH event to the session of its guild's shard (buffered for replay if the
        client is disconnected)."""
        raw = data.get("guild_id", data.get("id") if event.startswith("GUILD_") else None)
        session = self.session_for(int(raw) if raw is not None else None)
        if session is None:
            raise RuntimeError("no gateway session for this event's shard: connect a bot first")
        return await self._send_event(session, event, data)

    async def _send_event(self, session: _Session, event: str, data: JSON) -> int:
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.events.append((session.seq, frame))
        if session.ws is not None and not session.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.ws.send_str(frame)
        return session.seq

    async def drop_gateway(self, code: int = 4000, *, shard_id: int = 0) -> None:
        """Close a shard's websocket with a resumable code; events are buffered meanwhile."""
        session = self.sessions.get(shard_id)
        if session is None or session.ws is None:
            raise RuntimeError("no connected gateway session")
        ws, session.ws = session.ws, None
        await ws.close(code=code, message=b"dropped by test")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=1.0, autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connects.append(request.path)
        self._ws_tasks.add(ws)
        # Text frames: discord.py asks for zlib-stream but reads TEXT frames as plain JSON.
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
        )
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._gateway_frame(ws, frame)
        finally:
            self._ws_tasks.discard(ws)
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
            await self._notify()
        return ws

    async def _gateway_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(ws, data or {})
        elif op == 6:
            await self._resume(ws, data or {})
        elif op in (3, 4, 8):
            pass  # presence, voice state, request guild members: accepted, ignored
        else:
            await ws.close(code=4001, message=b"Unknown opcode")

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed")
            return
        if int(data.get("intents") or 0) & PRIVILEGED_INTENTS:
            await ws.close(code=4014, message=b"Disallowed intent(s)")
            return
        shard = data.get("shard") or [0, 1]
        shard_id, count = int(shard[0]), int(shard[1])
        if not 0 <= shard_id < count:
            await ws.close(code=4010, message=b"Invalid shard")
            return
        session = _Session(secrets.token_hex(16), (shard_id, count), ws=ws)
        previous = self.sessions.get(shard_id)
        self.sessions = {i: s for i, s in self.sessions.items() if s.shard[1] == count}
        self.sessions[shard_id] = session
        if previous is not None and previous.ws is not None and previous.ws is not ws:
            # The newer IDENTIFY wins, as on Discord: the older connection loses its session.
            old, previous.ws = previous.ws, None
            await old.close(code=4009, message=b"Session taken over")
        guilds = [g for g in self.guilds.values() if shard_for(g.id, count) == shard_id]
        ready = {
            "v": 10,
            "user": self.bot_user.to_json(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [shard_id, count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "geo_ordered_rtc_regions": [],
        }
        await self._send_event(session, "READY", ready)
        for guild in guilds:
            await self._send_event(session, "GUILD_CREATE", guild.create_payload())
        self.identifies += 1
        await self._notify()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed")
            return
        if session is None:
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return
        since = int(data.get("seq") or 0)
        session.ws = ws
        for seq, frame in list(session.events):
            if seq > since:
                await ws.send_str(frame)
        session.seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}))
        self.resumes += 1
        await self._notify()

    async def _close_gateways(self) -> None:
        for ws in list(self._ws_tasks):
            await ws.close(code=1001)
