"""Duplicate grouping: putting a new report with the open reports of the same problem.

The pure part (what makes two reports alike) is :mod:`bugline.triage.duplicates`; this
package stores signatures, finds candidates through an index of signature keys, and keeps
each group's counts of reports, people and accounts (:mod:`bugline.grouping.index`).
"""

from bugline.grouping.index import Grouping, Match, assign, detach, find_match, group_stats, refresh_status

__all__ = ["Grouping", "Match", "assign", "detach", "find_match", "group_stats", "refresh_status"]
