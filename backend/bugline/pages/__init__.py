"""The customer's own pages (server-rendered, no script): a report's status and public
timeline, answering the triage engine's questions, "still broken", and unsubscribing.

The HTTP handlers are in ``bugline.routes.pages``; this package holds what they use:
signed form tokens (``formtoken``), capped form bodies (``formbody``), the answer flow
(``answers``), the public timeline in plain words (``timeline``) and page rendering with its
headers (``view``).
"""
