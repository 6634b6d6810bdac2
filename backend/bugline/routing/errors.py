"""The routing engine's one error: rules that cannot be used."""


class RoutingError(ValueError):
    """A routing rule is unknown, mistyped or too large; the message names the rule and key path
    (``routing.rules[2].when.severity: ...``) so the person fixing it knows where to look."""
