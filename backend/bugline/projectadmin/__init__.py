"""Project set-up and accounts for the dashboard's /projects and /account pages: form values
in, checked settings out (pure modules), and the few queries those pages need."""
