"""A notification as the customer would get it, for a stored report or a made-up one, without
sending anything. Links are look-alikes (``context.preview_links``): a preview must not hand
whoever looks at it a customer's status page or unsubscribe link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bugline.notify import context, locales, templates
from bugline.notify.context import Facts
from bugline.notify.queue import KINDS


def render(
    facts: Facts,
    *,
    public_url: str,
    locale: str | None = None,
    draft: Mapping[str, str] | None = None,
) -> templates.Rendered:
    """``draft`` (parts not saved yet) replaces the project's saved template for this kind."""
    settings = context.notifications_settings(facts.project_settings)
    chosen = locale or locales.choose((), settings)
    values = context.variables(
        facts, chosen, public_url=public_url, secret_key="", links=context.preview_links(public_url)
    )
    overrides = draft if draft is not None else templates.overrides_for(facts.kind, chosen, settings)
    return templates.render(facts.kind, chosen, values, overrides)


def as_json(rendered: templates.Rendered, *, sample: bool) -> dict[str, Any]:
    return {
        "locale": rendered.locale,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "overridden": list(rendered.overridden),
        "problems": list(rendered.problems),
        "sample": sample,
    }


def samples(project_name: str, project_settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Sample variables for every kind: what a project's template must render with to be saved."""
    return {
        kind: context.variables(
            context.sample(kind, project_name, project_settings),
            locales.FALLBACK,
            public_url="https://bugline.example",
            secret_key="",
            links=context.preview_links("https://bugline.example"),
        )
        for kind in KINDS
    }
