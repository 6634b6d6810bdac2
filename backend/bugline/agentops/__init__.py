"""What an agent does to a report, the same from the dashboard's report page and from the
agent API: edit the checklist, change severity, merge and split duplicates, forward, change
status, write a note or a reply. One module per action; each is a plain function of a
database Session inside the caller's transaction, so the routes only parse and answer."""
