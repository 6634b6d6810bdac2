"""The monthly review (support-sop-for-bug-reports-guide.txt, step 6): the SOP's four
questions for one project and one month, answered from the reports, their timelines, the
SLA breaches, the outbox and the duplicate groups.

- ``month.py``    which month (parsing "2025-06", the default, the selector's choices); pure
- ``figures.py``  durations, percentiles, timings per severity, why a report took long; pure
- ``answers.py``  the answer sentence on top of each question; pure
- ``charts.py``   server-side SVG bar and spread charts, accessible; pure
- ``export.py``   the CSV export, with CSV-injection defence; pure
- ``data.py``     the queries (one project, one month), aggregated in SQL, lists capped
"""
