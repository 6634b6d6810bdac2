"""The triage engine's one error: a project's rules that cannot be used."""


class RulesError(ValueError):
    """A triage setting is unknown or has the wrong type; the message names the key."""
