"""Prometheus metrics: defined once here, built on a registry (the process default, or a test's own).

Callers elsewhere use the three module functions; they record on the process-wide default set, which
is created on first use on prometheus-client's ``REGISTRY``.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select

from bot import models
from bot.db import Sessionmaker
from bot.outbox.store import OPEN_STATES

COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    commands: Counter
    command_seconds: Histogram
    deliveries: Counter
    outbox_depth: Gauge
    outbox_failed: Gauge
    gateway_latency: Gauge


def build(registry: CollectorRegistry) -> Metrics:
    """Register a fresh set of metric objects on ``registry``."""
    return Metrics(
        registry=registry,
        commands=Counter(
            "peninsula_commands",
            "Slash commands handled, by command name and outcome.",
            ["command", "outcome"],
            registry=registry,
        ),
        command_seconds=Histogram(
            "peninsula_command_seconds",
            "Time from receiving a slash command to its answer.",
            ["command"],
            buckets=COMMAND_BUCKETS,
            registry=registry,
        ),
        deliveries=Counter(
            "peninsula_deliveries",
            "Alert deliveries attempted, by outcome.",
            ["outcome"],
            registry=registry,
        ),
        outbox_depth=Gauge(
            "peninsula_outbox_depth",
            "Deliveries waiting to be sent (pending or being sent).",
            registry=registry,
        ),
        outbox_failed=Gauge(
            "peninsula_outbox_failed",
            "Deliveries failed after their retry time (retried by /alerts resume).",
            registry=registry,
        ),
        gateway_latency=Gauge(
            "peninsula_gateway_latency_seconds",
            "Latency between a gateway heartbeat and its acknowledgement.",
            registry=registry,
        ),
    )


# One set per registry, so the web app and a test that share a registry record on the same objects.
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, Metrics] = weakref.WeakKeyDictionary()


def for_registry(registry: CollectorRegistry | None = None) -> Metrics:
    """The metric set registered on ``registry`` (default: the process-wide one), built on first use."""
    registry = REGISTRY if registry is None else registry
    found = _by_registry.get(registry)
    if found is None:
        found = _by_registry[registry] = build(registry)
    return found


def observe_command(name: str, outcome: str, seconds: float) -> None:
    """Count one slash command (outcome e.g. ``ok``, ``user_error``, ``error``) and its latency."""
    m = for_registry()
    m.commands.labels(command=name, outcome=outcome).inc()
    m.command_seconds.labels(command=name).observe(max(seconds, 0.0))


def count_delivery(outcome: str) -> None:
    """Count one outcome of the outbox worker (``sent``, ``edited``, ``retry``, ``rate_limited``,
    ``failed``, ``disabled``, ``skipped``, ``cancelled``, ``found``)."""
    for_registry().deliveries.labels(outcome=outcome).inc()


def set_gateway_latency(seconds: float) -> None:
    """Record the gateway's heartbeat latency; not-a-number (no heartbeat yet) is ignored."""
    if not math.isnan(seconds) and not math.isinf(seconds):
        for_registry().gateway_latency.set(seconds)


async def outbox_depth(sessionmaker: Sessionmaker) -> tuple[int, int]:
    """How many deliveries are waiting to be sent, and how many failed (until resumed)."""
    D = models.Delivery
    stmt = select(D.state, func.count()).where(D.state.in_((*OPEN_STATES, "failed"))).group_by(D.state)
    async with sessionmaker() as session:
        counts = {state: int(n) for state, n in (await session.execute(stmt)).all()}
    return sum(counts.get(s, 0) for s in OPEN_STATES), counts.get("failed", 0)
