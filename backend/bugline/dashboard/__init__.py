"""The agents' dashboard: sign-in, sessions and CSRF (this package), and the pages in
``bugline.routes`` that use them (inbox, report, projects, review)."""
