"""The routing engine: which connectors a triaged report goes to, and why (pure, no I/O).

    facts = Facts(severity="critical", kind="bug", categories=frozenset({"billing"}), ...)
    plan = route(facts, load_rules(project.settings.get("routing")))
    plan.targets   # Destination(connector, kind, options, tags, rules) for each connector
    explain(plan)  # the dry-run, as text

Rules: ``rules.py`` (format in docs/routing.md, shipped defaults in ``defaults.toml``).
"""

from bugline.routing.engine import Destination, Plan, Step, route
from bugline.routing.errors import RoutingError
from bugline.routing.explain import explain
from bugline.routing.facts import Connection, Facts
from bugline.routing.rules import RoutingSettings, Rule, RuleSet, default_rules, lint, load_rules

__all__ = [
    "Connection",
    "Destination",
    "Facts",
    "Plan",
    "RoutingError",
    "RoutingSettings",
    "Rule",
    "RuleSet",
    "Step",
    "default_rules",
    "explain",
    "lint",
    "load_rules",
    "route",
]
