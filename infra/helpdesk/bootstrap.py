"""Prepare a fresh test helpdesk in one process: migrate, then an admin user, its API token and a
queue; print them as one JSON line for the test harness (tests/support/helpdesk.py).

Run with var/helpdesk-venv/bin/python from this folder, HELPDESK_DATA_DIR set. Arguments: the
username, password and queue slug.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from helpdesk.models import Queue  # noqa: E402


def main(username: str, password: str, slug: str) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_superuser(username, f"{username}@bugline.test", password)
    token = Token.objects.create(user=user)
    queue = Queue.objects.create(title=slug.capitalize(), slug=slug, allow_public_submission=False)
    print(json.dumps({"user": username, "token": token.key, "queue_id": queue.id, "queue_slug": slug}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
