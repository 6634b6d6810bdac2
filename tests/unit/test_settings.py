"""Settings are read once, from the environment, and refuse what they do not understand."""

from __future__ import annotations

from pathlib import Path

import pytest

from bugline.settings import Settings, SettingsError, describe


def test_defaults_are_the_embedded_setup() -> None:
    s = Settings.from_env({})
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.effective_database_url.endswith("var/bugline.db")
    assert s.s3_bucket == ""
    assert s.port == 8000
    assert s.effective_public_url == "http://127.0.0.1:8000"


def test_values_are_parsed() -> None:
    s = Settings.from_env(
        {
            "BUGLINE_DATABASE_URL": "postgresql://bugline@db/bugline",
            "BUGLINE_S3_BUCKET": "media",
            "BUGLINE_MAX_ATTACHMENT_BYTES": "1000",
            "PORT": "9000",
            "BUGLINE_DATA_DIR": "/srv/bugline",
        }
    )
    assert (s.s3_bucket, s.max_attachment_bytes, s.port, s.data_dir) == (
        "media",
        1000,
        9000,
        Path("/srv/bugline"),
    )
    assert s.effective_public_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BUGLINE_DATABSE_URL": "x"}, "unknown setting BUGLINE_DATABSE_URL"),
        ({"BUGLINE_MAX_ATTACHMENT_BYTES": "lots"}, "BUGLINE_MAX_ATTACHMENT_BYTES='lots' is not a valid int"),
        ({"BUGLINE_MAX_ATTACHMENT_BYTES": "-1"}, "must be a positive number"),
        ({"BUGLINE_DATABASE_URL": "mysql://x"}, "must be a sqlite:// or postgresql:// URL"),
        ({"BUGLINE_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"BUGLINE_PUBLIC_URL": "ftp://x"}, "must be an http(s) URL"),
        ({"PORT": "70000"}, "PORT must be between"),
        ({"BUGLINE_LOG_LEVEL": "loud"}, "BUGLINE_LOG_LEVEL must be one of"),
        ({"BUGLINE_LOG_FORMAT": "xml"}, "BUGLINE_LOG_FORMAT must be text or json"),
        ({"BUGLINE_METRICS_TOKEN": "short"}, "BUGLINE_METRICS_TOKEN must be at least 16"),
        ({"BUGLINE_DB_POOL_SIZE": "0"}, "BUGLINE_DB_POOL_SIZE must be between 1 and 500"),
        ({"BUGLINE_RETENTION_MEDIA_DAYS": "-3"}, "BUGLINE_RETENTION_*_DAYS"),
        ({"BUGLINE_ABANDONED_UPLOAD_HOURS": "-1"}, "BUGLINE_ABANDONED_UPLOAD_HOURS must be hours from 0"),
        ({"BUGLINE_ABANDONED_UPLOAD_HOURS": "9000"}, "BUGLINE_ABANDONED_UPLOAD_HOURS must be hours from 0"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_them(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    assert needle in str(err.value)


def test_every_setting_has_help() -> None:
    rows = describe()
    assert len(rows) >= 15
    assert all(len(help_text) > 10 for _, _, help_text in rows)


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    first = s.with_secret().secret_key
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).with_secret().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_pool_size_reaches_the_postgresql_engine() -> None:
    from bugline.db.engine import make_async_engine

    engine = make_async_engine("postgresql://u@127.0.0.1:5432/x", pool_size=4)
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 4)  # type: ignore[attr-defined]
