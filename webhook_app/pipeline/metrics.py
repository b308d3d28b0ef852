"""Prometheus metrics: in-process counters plus queue and outbox gauges read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from adapters.storage.configs import last_refusal
from adapters.storage.engine import reading
from adapters.storage.heartbeats import last_heartbeat
from adapters.storage.hookstate import STATES, HookState, hook_states
from adapters.storage.outage import outages
from adapters.storage.outbox import outbox_counts
from adapters.storage.queue import job_counts, oldest_pending


class Metrics:
    """Every metric we export, registered in a registry of our own (not the global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.received = self._counter("leadrouter_webhooks_received", "Webhook requests received", "crm")
        self.stored = self._counter("leadrouter_events_stored", "Events stored in the inbox", "crm")
        self.duplicates = self._counter(
            "leadrouter_events_duplicate", "Redelivered events acknowledged, not stored", "crm"
        )
        self.rejected = self._counter(
            "leadrouter_webhooks_rejected", "Webhook requests refused", "crm", "reason"
        )
        self.decision_seconds = Histogram(
            "leadrouter_decision_seconds",
            "Time to decide one lead (the pure core call)",
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1),
            registry=self.registry,
        )
        self.crm_writes = self._counter(
            "leadrouter_crm_writes", "CRM write attempts by outcome", "kind", "outcome"
        )
        self.handoffs = self._counter(
            "leadrouter_handoffs",
            "Handoffs that came due, by kind (stage, after_days, sla, return) and outcome "
            "(handed, kept-by-exception, blocked, to-head)",
            "kind",
            "outcome",
        )

    def _counter(self, name: str, doc: str, *labels: str) -> Counter:
        return Counter(name, doc, list(labels), registry=self.registry)

    def watch_database(self, engine: Engine, clock: Any) -> None:
        """Also export job, outbox and heartbeat gauges computed at scrape time."""
        self.registry.register(_DatabaseCollector(engine, clock))


class _DatabaseCollector(Collector):
    def __init__(self, engine: Engine, clock: Any) -> None:
        self.engine, self.clock = engine, clock

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        now: datetime = self.clock()
        with reading(self.engine) as connection:
            jobs = job_counts(connection)
            writes = outbox_counts(connection)
            oldest = oldest_pending(connection, now)
            beat = last_heartbeat(connection)
            refusal = last_refusal(connection)
            down = outages(connection)
            hooks = hook_states(connection)
        yield _labelled("leadrouter_jobs", "Jobs by state", "state", jobs)
        yield _labelled("leadrouter_outbox", "CRM writes in the outbox by state", "state", writes)
        age = GaugeMetricFamily("leadrouter_oldest_due_job_seconds", "Age of the oldest due job not yet run")
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield age
        heartbeat = GaugeMetricFamily(
            "leadrouter_worker_heartbeat_age_seconds", "Seconds since a worker last ran"
        )
        heartbeat.add_metric([], (now - beat).total_seconds() if beat else float("nan"))
        yield heartbeat
        refused = GaugeMetricFamily(
            "leadrouter_config_refusals", "Config reloads refused so far (the running version stayed)"
        )
        refused.add_metric([], float(refusal["count"]) if refusal else 0.0)
        yield refused
        unreachable = GaugeMetricFamily(
            "leadrouter_crm_unreachable_seconds",
            "How long the CRM has failed us (0 while it answers); leads and writes wait, none is given up",
            labels=["crm"],
        )
        waiting = GaugeMetricFamily(
            "leadrouter_waiting_for_crm",
            "Jobs and CRM writes waiting out a CRM outage",
            labels=["crm", "what"],
        )
        for outage in down:
            unreachable.add_metric([outage.crm], max(0.0, (now - outage.since).total_seconds()))
            waiting.add_metric([outage.crm, "jobs"], outage.jobs)
            waiting.add_metric([outage.crm, "writes"], outage.writes)
        yield unreachable
        yield waiting
        yield from _hook_metrics(hooks, now)


def _hook_metrics(hooks: list[HookState], now: datetime) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """Our webhook per CRM: its state (1 for the one it is in), the age of the last check, repairs."""
    state = GaugeMetricFamily(
        "leadrouter_hook_state",
        "Our webhook in the CRM as last checked: ok, down (off, not repaired), unknown (unreadable "
        "this time) or unchecked (not readable in this setup, or uninstalled)",
        labels=["crm", "state"],
    )
    age = GaugeMetricFamily(
        "leadrouter_hook_check_age_seconds", "Seconds since the hook check last ran", labels=["crm"]
    )
    repairs = CounterMetricFamily(
        "leadrouter_hook_repairs",
        "Times our webhook was found disabled or missing and re-enabled",
        labels=["crm"],
    )
    for hook in hooks:
        for name in STATES:
            state.add_metric([hook.crm, name], 1.0 if hook.state == name else 0.0)
        age.add_metric([hook.crm], max(0.0, (now - hook.checked_at).total_seconds()))
        repairs.add_metric([hook.crm], hook.repairs)
    yield state
    yield age
    yield repairs


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
