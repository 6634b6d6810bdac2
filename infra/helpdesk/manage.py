#!/usr/bin/env python
"""Django's command-line utility for the test helpdesk site (run with var/helpdesk-venv/bin/python)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
