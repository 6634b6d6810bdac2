"""Keys, status tokens and passwords: unguessable, stable where retries need it, never stored plain."""

from __future__ import annotations

from bugline.tokens import hash_password, public_key, status_token, token_hash, verify_password


def test_public_keys_are_unique_and_recognisable() -> None:
    keys = {public_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(k.startswith("pk_") and len(k) >= 24 for k in keys)


def test_status_token_is_stable_per_report_and_secret() -> None:
    a = status_token("s" * 40, "report-1")
    assert a == status_token("s" * 40, "report-1")  # a retried request gets the same link
    assert a != status_token("s" * 40, "report-2")
    assert a != status_token("t" * 40, "report-1")  # rotating the secret changes every link
    assert len(a) >= 40 and token_hash(a) != a and len(token_hash(a)) == 64


def test_passwords_are_salted_and_verified() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second  # salted
    assert "correct horse" not in first
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("correct horse battery", "md5$abc")
    assert not verify_password("x", "garbage")
