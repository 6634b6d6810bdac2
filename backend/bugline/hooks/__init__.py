"""Status coming back from the team's tools: helpdesks' and trackers' webhooks.

One endpoint per connector (``POST /hooks/{connector_id}``, routes/hooks.py). For each
vendor a module here says how its deliveries are signed and what its states mean:

  inbound.py     what a delivery is (Inbound), what reading one gives (Event, Ignored), the
                 refusals (Rejected 401, Malformed 400, Unavailable 503), the Vendor interface
  signatures.py  HMAC and timestamp checks, constant-time comparisons (shared by all vendors)
  states.py      the shared rules: the "open" pseudo-state, the cannot-reproduce label, which
                 Bugline statuses a vendor state may move a report from
  payload.py     reading untrusted JSON without trusting its shape
  zendesk.py github.py jira.py linear.py slack.py freshdesk.py djangohelpdesk.py
                 each: signature check, what to read, the table of vendor states
  vendors.py     kind -> vendor
  apply.py       the one transaction: de-duplicate, find the ticket, change the group's status

A vendor's state table is at the top of its module; the reasons for each choice are
beside it, and docs are in each module's docstring.
"""
