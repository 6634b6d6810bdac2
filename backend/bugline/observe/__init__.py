"""What operators see of a running Bugline: Prometheus metrics (metrics.py), structured logs
that carry a request id and a report id (logs.py), and the HTTP middleware that sets both
(bugline.web.requests)."""
