"""ORM models: the one place the schema is described (Alembic migrations follow it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from bot.services.cjk import local_text

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PRECISIONS = ("day", "month", "year")
EVENT_KINDS = (
    "nuclear_test",
    "missile_launch",
    "satellite_launch",
    "military_parade",
    "talks_session",
    "summit",
    "agreement",
    "statement",
    "sanctions",
    "testimony",
    "facility_activity",
    "military_action",
    "other",
)
EVENT_STATUSES = ("published", "retracted")
ACTOR_KINDS = ("state", "organization", "person")
PROGRAM_CATEGORIES = ("nuclear", "missile", "space", "submarine")
TRACK_STATUSES = ("active", "dormant", "ended")
SUBSCRIPTION_STATES = ("active", "paused", "disabled")
SUBSCRIPTION_TARGETS = ("channel", "forum", "thread")
SUBSCRIPTION_IDENTITIES = ("bot", "webhook")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "cancelled")
#: ``summary``: the one "N more events imported" message of an import past its alert cap.
#: ``digest``: one period of a digest subscription (no event of its own; see ``DigestItem``).
DELIVERY_ACTIONS = ("post", "edit", "summary", "digest")
SUBSCRIPTION_MODES = ("alert", "digest")
DIGEST_FREQUENCIES = ("daily", "weekly")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on both databases (SQLite keeps no zone, so it is stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _event_link(name: str, target: str, column: str) -> Table:
    """The link table ``event_<name>`` from events to rows of ``target`` (both keys cascade), with the
    (record, event) index that a filter by record reads."""
    return Table(
        f"event_{name}",
        Base.metadata,
        Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
        Column(column, ForeignKey(f"{target}.id", ondelete="CASCADE"), primary_key=True),
        Index(f"ix_event_{name}_{column}", column, "event_id"),
    )


event_program = _event_link("program", "program", "program_id")
event_actor = _event_link("actor", "actor", "actor_id")
event_track = _event_link("track", "talks_track", "track_id")
event_system = _event_link("system", "system", "system_id")
event_facility = _event_link("facility", "facility", "facility_id")

# An event's one primary track: the key on ``event_id`` makes it one per event.
event_primary_track = Table(
    "event_primary_track",
    Base.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("track_id", ForeignKey("talks_track.id", ondelete="CASCADE"), nullable=False),
    Index("ix_event_primary_track_track_id", "track_id", "event_id"),
)

track_participant = Table(
    "track_participant",
    Base.metadata,
    Column("track_id", ForeignKey("talks_track.id", ondelete="CASCADE"), primary_key=True),
    Column("actor_id", ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True),
)


class _Record:
    """What every catalog record has: an id, a slug, a name, a summary and its other names."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    # Its name, other names and summary in other languages:
    # {"ko": {"name": ..., "aliases": [...], "summary": ...}, "ja": ..., "zh-CN": ...}
    i18n: Mapped[dict[str, Any]] = mapped_column(default=dict)


class _StatusSince:
    """The date a record's status became true, to a precision (its ``status`` column is its own)."""

    status_since: Mapped[dt.date | None] = mapped_column(Date)
    status_since_precision: Mapped[str] = mapped_column(String(5), default="day")


class Actor(_Record, Base):
    __tablename__ = "actor"
    __table_args__ = (CheckConstraint(_in("kind", ACTOR_KINDS), name="kind"),)

    kind: Mapped[str] = mapped_column(String(16))


class Program(_Record, _StatusSince, Base):
    __tablename__ = "program"
    __table_args__ = (CheckConstraint(_in("category", PROGRAM_CATEGORIES), name="category"),)

    category: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(100))


class _ProgramPart(_Record, _StatusSince):
    """What a system and a facility both are: a record of its own, part of one program."""

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # its place in the program's list
    status: Mapped[str] = mapped_column(String(100), default="")
    # Dated turning points: [{"date": "2018-05-24", "text": "..."}], oldest first.
    key_dates: Mapped[list[Any]] = mapped_column(default=list)


class System(_ProgramPart, Base):
    """A weapon, launcher, vehicle or satellite (Hwasong-17, KN-23, Malligyong-1)."""

    __tablename__ = "system"

    program: Mapped[Program] = relationship()


class Facility(_ProgramPart, Base):
    """A site (Punggye-ri, Yongbyon, Sohae)."""

    __tablename__ = "facility"

    location: Mapped[str] = mapped_column(String(200), default="")
    program: Mapped[Program] = relationship()


class TalksTrack(_Record, _StatusSince, Base):
    __tablename__ = "talks_track"
    __table_args__ = (CheckConstraint(_in("status", TRACK_STATUSES), name="status"),)

    status: Mapped[str] = mapped_column(String(16))
    participants: Mapped[list[Actor]] = relationship(secondary=track_participant, order_by=Actor.name)


class Topic(_Record, Base):
    __tablename__ = "topic"


class Position(Base):
    __tablename__ = "position"
    __table_args__ = (
        UniqueConstraint("actor_id", "topic_id", "as_of"),
        CheckConstraint(_in("as_of_precision", PRECISIONS), name="as_of_precision"),
        Index("ix_position_topic_id", "topic_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"))
    speaker_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id", ondelete="SET NULL"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    as_of_precision: Mapped[str] = mapped_column(String(5))
    stance: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    source_publisher: Mapped[str] = mapped_column(String(200))
    source_title: Mapped[str] = mapped_column(String(300))
    source_date: Mapped[dt.date | None] = mapped_column(Date)
    source_date_precision: Mapped[str] = mapped_column(String(5), default="day")
    source_url: Mapped[str | None] = mapped_column(String(500))

    actor: Mapped[Actor] = relationship(foreign_keys=[actor_id])
    topic: Mapped[Topic] = relationship()
    speaker: Mapped[Actor | None] = relationship(foreign_keys=[speaker_id])


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("significance BETWEEN 1 AND 5", name="significance"),
        CheckConstraint(_in("precision", PRECISIONS), name="precision"),
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(_in("status", EVENT_STATUSES), name="status"),
        CheckConstraint("revision >= 1", name="revision"),
        Index("ix_event_occurred_on", "occurred_on", "id"),
        Index("ix_event_kind", "kind", "occurred_on"),
        Index("ix_event_guild_id", "guild_id", "status"),
        Index("ix_event_significance", "significance", "occurred_on", "id"),
        Index("ix_event_milestone", "milestone", "occurred_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    precision: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(32))
    significance: Mapped[int] = mapped_column(Integer)
    # A turning point of its programs (rubric in data/README.md); milestones are these first.
    milestone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="published")
    retract_reason: Mapped[str | None] = mapped_column(Text)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # None: global
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Title and summary in other languages: {"ko": {"title": ..., "summary": ...}, "ja": ..., "zh-CN": ...}.
    # Not part of the content a revision compares: a change of translations alone edits no alert.
    i18n: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # The translations as the full-text index reads them (bot/services/cjk.py), kept with ``i18n``.
    search_local: Mapped[str] = mapped_column(Text, default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    programs: Mapped[list[Program]] = relationship(secondary=event_program, order_by=Program.name)
    actors: Mapped[list[Actor]] = relationship(secondary=event_actor, order_by=Actor.name)
    tracks: Mapped[list[TalksTrack]] = relationship(secondary=event_track, order_by=TalksTrack.name)
    systems: Mapped[list[System]] = relationship(secondary=event_system, order_by=System.name)
    facilities: Mapped[list[Facility]] = relationship(secondary=event_facility, order_by=Facility.name)
    # The one track the event belongs to (also among ``tracks``); the others it only relates to.
    primary_track: Mapped[TalksTrack | None] = relationship(secondary=event_primary_track)
    sources: Mapped[list[Source]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Source.position"
    )

    @validates("i18n")
    def _index_translations(self, _key: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Whoever stores translations stores what the search index reads of them too."""
        self.search_local = local_text(value)
        return value


class Source(Base):
    __tablename__ = "source"
    __table_args__ = (
        UniqueConstraint("event_id", "position"),
        CheckConstraint(_in("published_precision", PRECISIONS), name="published_precision"),
        Index("ix_source_external_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    publisher: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    published_precision: Mapped[str] = mapped_column(String(5), default="day")
    url: Mapped[str | None] = mapped_column(String(500))
    # A dataset row merged into the event (``cns:118``): the row's id and its dataset details.
    external_id: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    event: Mapped[Event] = relationship(back_populates="sources")


class Subscription(Base):
    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(_in("state", SUBSCRIPTION_STATES), name="state"),
        CheckConstraint("min_significance BETWEEN 1 AND 5", name="min_significance"),
        Index("ix_subscription_channel_id", "channel_id"),
        Index("ix_subscription_state", "state", "guild_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    programs: Mapped[list[Any]] = mapped_column(default=list)
    tracks: Mapped[list[Any]] = mapped_column(default=list)
    actors: Mapped[list[Any]] = mapped_column(default=list)
    systems: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    facilities: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    min_significance: Mapped[int] = mapped_column(Integer, default=1)
    mention_role_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    #: When ``state`` last changed (paused, disabled, resumed); ``None``: as it was created.
    state_since: Mapped[dt.datetime | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column()
    #: ``alert`` (one message per event) or ``digest`` (one message per period, the schedule below:
    #: ``digest_at`` "HH:MM" in the server's time zone, ``digest_weekday`` 0 = Monday for weekly).
    mode: Mapped[str] = mapped_column(String(8), default="alert", server_default="alert")
    digest_frequency: Mapped[str | None] = mapped_column(String(8))
    digest_at: Mapped[str | None] = mapped_column(String(5))
    digest_weekday: Mapped[int | None] = mapped_column(Integer)
    #: The digest's own IANA zone; ``None``: the server's ``/settings timezone`` at each boundary.
    digest_timezone: Mapped[str | None] = mapped_column(String(64))
    #: Post a digest for a period in which nothing was collected.
    digest_empty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The end of the period being collected (UTC): the scheduler closes it once this has passed.
    digest_next_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    #: Where its alerts go (``SUBSCRIPTION_TARGETS``): a channel's messages, a forum's posts, or
    #: a thread's messages (``parent_id``: the thread's channel, where its webhook lives).
    target: Mapped[str] = mapped_column(String(8), default="channel", server_default="channel")
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    #: In a channel, a discussion thread on each alert of significance ``thread_min`` or more.
    thread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    thread_min: Mapped[int] = mapped_column(Integer, default=4, server_default=text("4"))
    #: In a forum, the post's tags: those named as the event's kind or its programs (``None``: none).
    forum_tags: Mapped[str | None] = mapped_column(String(8))
    #: Who posts (``bot`` or ``webhook``: through a channel webhook with this name and avatar).
    identity: Mapped[str] = mapped_column(String(8), default="bot", server_default="bot")
    webhook_name: Mapped[str | None] = mapped_column(String(80))
    webhook_avatar_url: Mapped[str | None] = mapped_column(Text)
    #: The channel webhook the bot made (its token is a secret: never logged, never shown), and
    #: whether it was made again once already after a deletion.
    webhook_id: Mapped[int | None] = mapped_column(BigInteger)
    webhook_token: Mapped[str | None] = mapped_column(Text)
    webhook_recreated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", "revision"),
        # A digest's period, once per part (``revision`` numbers the parts of a long digest).
        UniqueConstraint("subscription_id", "period_start", "revision"),
        CheckConstraint(_in("state", DELIVERY_STATES), name="state"),
        CheckConstraint(_in("action", DELIVERY_ACTIONS), name="action"),
        Index("ix_delivery_state", "state", "next_attempt_at"),
        Index("ix_delivery_subscription_id", "subscription_id", "event_id"),
        Index("ix_delivery_crosspost", "crosspost", "crosspost_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``None`` for a ``digest`` (its events are the ``digest_item`` rows of its period).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"))
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8), default="post")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    #: The first attempt since the delivery was queued or resumed: retries stop a configured
    #: time after it (``DispatcherConfig.give_up_after``).
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    #: A ``summary`` row: how many events of the import this channel got no alert of.
    summary_count: Mapped[int | None] = mapped_column(Integer)
    #: The roles a post mentions when several subscriptions of its channel matched the event (one
    #: alert per channel, every matching subscription's role); ``None``: its subscription's role.
    mention_role_ids: Mapped[list[Any] | None] = mapped_column(JSON)
    #: An alert posted in an announcement channel: its crosspost ``pending`` (Discord's crosspost
    #: limit deferred it to ``crosspost_at``), ``done`` or ``failed`` (why in ``last_error``);
    #: ``None`` in any other channel.
    crosspost: Mapped[str | None] = mapped_column(String(8))
    crosspost_at: Mapped[dt.datetime | None] = mapped_column()
    #: A ``digest``: the period it covers, [start, end) in UTC.
    period_start: Mapped[dt.datetime | None] = mapped_column()
    period_end: Mapped[dt.datetime | None] = mapped_column()
    #: The thread a post opened (a forum post, whose starter message is ``message_id``, or a
    #: channel alert's discussion thread), and the webhook it was posted through: edits go there.
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    webhook_id: Mapped[int | None] = mapped_column(BigInteger)


class DigestItem(Base):
    """An event collected for a digest subscription: recorded when the event is published, given
    its period (``period_start``) when the scheduler closes the period; sent as it is then."""

    __tablename__ = "digest_item"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_digest_item_subscription_id_period_start", "subscription_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    collected_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    period_start: Mapped[dt.datetime | None] = mapped_column()


class DataVersion(Base):
    """Writes of one scope's events (0: global, else a guild's): see bot/services/data_version.py."""

    __tablename__ = "data_version"

    scope: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_guild_id", "guild_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class GuildSettings(Base):
    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    curator_role_id: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(16), default="en-US")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Where new drafts of the guild's scope are posted for its curators (None: nowhere).
    review_channel_id: Mapped[int | None] = mapped_column(BigInteger)


class KeyValue(Base):
    """Small operational state, such as the hash of the last synced command tree."""

    __tablename__ = "key_value"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


WATCH_FORMATS = ("atom", "rss", "cns", "csis")
DRAFT_STATES = ("pending", "published", "merged", "rejected")


class WatchSource(Base):
    """A feed (Atom, RSS) or a dataset (a CNS or CSIS CSV) the watcher polls; its new items or rows
    become drafts in the review queue."""

    __tablename__ = "watch_source"
    __table_args__ = (
        CheckConstraint(_in("format", WATCH_FORMATS), name="format"),
        Index("ix_watch_source_guild_id", "guild_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # None: drafts for the shared corpus
    url: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_checked_at: Mapped[dt.datetime | None] = mapped_column()
    last_new_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    interval: Mapped[int | None] = mapped_column(Integer)  # seconds; None: WATCH_INTERVAL
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


class Draft(Base):
    """A proposed event drafted from one feed item, waiting for a curator to publish or reject it."""

    __tablename__ = "draft"
    __table_args__ = (
        UniqueConstraint("source_id", "guid"),
        CheckConstraint(_in("state", DRAFT_STATES), name="state"),
        CheckConstraint(_in("precision", PRECISIONS), name="precision"),
        Index("ix_draft_guild_id", "guild_id", "state", "id"),
        Index("ix_draft_source_id_url", "source_id", "url"),
        Index("ix_draft_suggested_by", "suggested_by", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a member's suggestion (``suggested_by``), which has no watched source.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("watch_source.id", ondelete="CASCADE"))
    guild_id: Mapped[int | None] = mapped_column(BigInteger)  # the source's (or suggester's) scope
    suggested_by: Mapped[int | None] = mapped_column(BigInteger)
    guid: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    precision: Mapped[str] = mapped_column(String(5), default="day")
    kind: Mapped[str] = mapped_column(String(32))
    significance: Mapped[int] = mapped_column(Integer, default=2)
    # The catalog slugs whose names appear in the item, per link kind's field: {"systems": [...]}.
    links: Mapped[dict[str, Any]] = mapped_column(default=dict)
    publisher: Mapped[str] = mapped_column(String(200))
    item_title: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)  # an event's id
    state: Mapped[str] = mapped_column(String(16), default="pending")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    # Set once the draft was offered to its scope's review channels (or there were none).
    announced: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


REVIEW_POST_STATES = ("pending", "sending", "sent", "failed", "cancelled")


class ReviewPost(Base):
    """A draft offered in one guild's review channel (``/settings review-channel``), posted through
    the review poster exactly once, with Publish/Edit/Merge/Reject buttons; once the draft is
    decided (``edit_due``) the posted message is edited to say who decided what."""

    __tablename__ = "review_post"
    __table_args__ = (
        UniqueConstraint("draft_id", "guild_id"),
        CheckConstraint(_in("state", REVIEW_POST_STATES), name="state"),
        Index("ix_review_post_state", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"))
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: The draft was decided: the posted message is to be edited (buttons removed).
    edit_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
