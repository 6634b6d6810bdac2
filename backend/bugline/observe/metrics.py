"""Prometheus metrics, one registry per process.

Counters and histograms count what this process did (each app and worker process is
scraped on its own, as Prometheus expects of every replica). Queue depths and ages are
read from the database at scrape time by :class:`QueueCollector`, so every process
reports the same, true figure and nothing drifts when a worker dies.

Labels are bounded: routes are path templates (``/api/v1/reports/{report_id}``), never raw
paths; connector and notification kinds come from fixed registries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "bugline_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "bugline_http_request_seconds",
    "Time from request to the end of the response, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
REPORTS = Counter(
    "bugline_reports_accepted",
    "Reports accepted (stored with all their media verified), by source (widget, api, form).",
    ["source"],
    registry=REGISTRY,
)
UPLOADS = Counter(
    "bugline_uploads",
    "Uploaded files checked at finalize, by kind (screenshot, recording, attachment) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
TRIAGE_SECONDS = Histogram(
    "bugline_triage_seconds",
    "Time to triage a batch of accepted reports, per report (engine, duplicates, write).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "bugline_delivery_attempts",
    "Delivery attempts to helpdesks and trackers, by connector kind and result (delivered, retry, failed).",
    ["connector", "result"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "bugline_notifications",
    "Customer notifications handled, by outcome (sent, retry, failed, skipped, lost-lease).",
    ["outcome"],
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "bugline_sla_breaches",
    "SLA targets missed (recorded when the timer fires), by target (first_response, resolution, ...).",
    ["target"],
    registry=REGISTRY,
)


class QueueCollector(Collector):
    """Depth and age of the work queues, read at scrape time.

    ``read`` returns rows of (queue, state, count, oldest) for deliveries, notifications,
    the triage backlog and timers; it runs in the scraping request (a few indexed counts).
    """

    def __init__(
        self, read: Callable[[], Iterable[tuple[str, str, int, datetime | None]]], now: Callable[[], datetime]
    ):
        self.read = read
        self.now = now

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "bugline_queue_depth",
            "Rows waiting in a work queue, by queue and state.",
            labels=["queue", "state"],
        )
        age = GaugeMetricFamily(
            "bugline_queue_oldest_seconds",
            "Age of the oldest row waiting in a work queue, by queue and state.",
            labels=["queue", "state"],
        )
        now = self.now()
        for queue, state, count, oldest in self.read():
            depth.add_metric([queue, state], count)
            age.add_metric([queue, state], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield depth
        yield age
