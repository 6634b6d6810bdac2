"""SLA targets per severity, and the timers that escalate what stalls."""
