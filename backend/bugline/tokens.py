"""Unguessable tokens and keys, and the hashes stored in their place."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence


def public_key() -> str:
    """A project's widget key: public (it sits in web pages), unique, hard to guess."""
    return "pk_" + secrets.token_urlsafe(18)


def status_token(secret_key: str, report_id: str) -> str:
    """The reporter's capability for one report, derived so a retried request gets the same one.

    Only its SHA-256 is stored: a copy of the database does not let anyone read reports.
    """
    mac = hmac.new(secret_key.encode(), b"report-status:" + report_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def status_token_for(keys: Sequence[str], report_id: str, stored_hash: str | None) -> str:
    """The report's status token as the reporter holds it: derived with whichever of ``keys``
    (current first, then those before a rotation) made the hash stored for the report, so a
    mail about an old report carries the link that opens it."""
    for key in keys:
        token = status_token(key, report_id)
        if stored_hash is None or hmac.compare_digest(token_hash(token), stored_hash):
            return token
    return status_token(keys[0], report_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret_key: str, purpose: str, message: str) -> str:
    return hmac.new(secret_key.encode(), f"{purpose}:{message}".encode(), hashlib.sha256).hexdigest()


def hash_password(password: str) -> str:
    """scrypt from the standard library (RFC 7914), parameters kept with the hash."""
    salt = secrets.token_bytes(16)
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)
