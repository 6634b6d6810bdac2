"""Every setting Bugline reads, in one frozen object built once from the environment.

Nothing else in the code reads ``os.environ``. Each setting has a default and help
text (``bugline settings`` prints them). An unknown ``BUGLINE_*`` variable or a value
that does not parse stops the start with a message naming the variable.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "BUGLINE_"
DEFAULT_DATA_DIR = Path("var")
MiB = 1024 * 1024


class SettingsError(ValueError):
    """A setting is unknown or its value is invalid; the message says which and why."""


def _setting(default: Any, help: str, env: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "env": env})


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = _setting(
        "", "SQLAlchemy URL. Default: SQLite at DATA_DIR/bugline.db. PostgreSQL: postgresql://user@host/db"
    )
    data_dir: Path = _setting(
        DEFAULT_DATA_DIR, "Folder for the embedded database, local media and the dev secret."
    )
    s3_bucket: str = _setting("", "When set, media is stored in this S3 bucket instead of DATA_DIR/media.")
    s3_endpoint_url: str = _setting(
        "", "Endpoint of an S3-compatible server (SeaweedFS, MinIO); empty for AWS."
    )
    s3_public_endpoint_url: str = _setting(
        "", "Endpoint browsers use for presigned uploads when it differs from S3_ENDPOINT_URL."
    )
    s3_region: str = _setting("us-east-1", "S3 region. Credentials come from boto3's standard chain.")
    secret_key: str = _setting(
        "", "Key for signed URLs and tokens, at least 32 characters. Default: generated into DATA_DIR."
    )
    secret_key_previous: str = _setting(
        "",
        "Earlier SECRET_KEYs, comma separated, still accepted after a rotation: links in mails "
        "already sent, unsubscribe links and open forms keep working; new ones use SECRET_KEY.",
    )
    public_url: str = _setting("", "Base URL people reach Bugline at. Default: http://127.0.0.1:PORT")
    host: str = _setting("127.0.0.1", "Interface `bugline serve` binds to.")
    port: int = _setting(8000, "Port `bugline serve` listens on (PORT works too).", env="PORT")
    max_report_bytes: int = _setting(256 * 1024, "Largest JSON report body accepted, in bytes.")
    max_attachment_bytes: int = _setting(25 * MiB, "Largest screenshot, log or file attachment, in bytes.")
    max_recording_bytes: int = _setting(500 * MiB, "Largest screen recording, in bytes.")
    max_attachments: int = _setting(10, "Most attachments on one report.")
    upload_url_ttl: int = _setting(900, "Seconds a presigned upload URL stays valid.")
    rate_limit_per_key: int = _setting(120, "Reports and upload requests per minute per project key.")
    rate_limit_per_ip: int = _setting(30, "Reports and upload requests per minute per client IP.")
    rate_limit_share_seconds: float = _setting(
        1.0,
        "How often each server process shares what its rate limits let through with the others, "
        "through the database, so that N processes allow one budget, not N. 0: every process "
        "keeps its own limits (a client gets N times the budget).",
    )
    trusted_proxies: int = _setting(0, "Number of reverse proxies in front whose X-Forwarded-For is trusted.")
    log_level: str = _setting("info", "debug, info, warning or error.")
    log_format: str = _setting(
        "text",
        "text (for people) or json (one object per line with request_id and report_id, for log stores).",
    )
    metrics_token: str = _setting(
        "",
        "Bearer token a Prometheus scraper sends to GET /metrics. Empty: /metrics answers only "
        "loopback and private-network addresses.",
    )
    db_pool_size: int = _setting(
        10,
        "PostgreSQL connections each process keeps open (as many again during a burst, plus one "
        "for LISTEN). Size it so processes x 2 x this stays under the server's max_connections.",
    )
    retention_media_days: int = _setting(
        0,
        "Days screenshots, recordings and files are kept after a report arrives; 0 keeps them. "
        "A project may set its own (settings.retention.media_days).",
    )
    retention_personal_days: int = _setting(
        0,
        "Days the reporter's identity, client IP and custom metadata are kept; 0 keeps them. "
        "A project may set its own (settings.retention.personal_days).",
    )
    abandoned_upload_hours: int = _setting(
        24,
        "Hours a report may wait for files the customer never finished uploading (a closed tab); "
        "then the retention sweep accepts it with the files that did arrive, or drops it if it "
        "holds no words yet. 0 waits forever.",
    )
    worker_metrics_port: int = _setting(
        0, "Port where `bugline worker` serves its Prometheus metrics (on HOST); 0 turns it off."
    )
    triage_in_web: bool = _setting(
        True,
        "Triage accepted reports inside each web process. Turn off when `bugline worker` processes "
        "do it, so the web processes spend their CPU on requests.",
    )

    outbox_in_web: bool = _setting(
        True,
        "Forward triaged reports to helpdesks from each web process. Turn off when `bugline worker` "
        "processes do it.",
    )
    outbox_concurrency: int = _setting(8, "Deliveries one process sends at once (they wait on vendors).")
    outbox_lease: int = _setting(
        120,
        "Seconds a process holds a delivery: a process that dies mid-delivery has its deliveries "
        "taken over after this; vendor calls are cut off at 80% of it.",
    )
    media_link_ttl: int = _setting(
        7 * 24 * 3600,
        "Seconds the media links put into tickets stay valid (S3 presigned URLs allow at most 7 days).",
    )

    smtp_host: str = _setting(
        "", "SMTP server for customer notifications. Empty: notifications are recorded as not sent."
    )
    smtp_port: int = _setting(587, "SMTP port (587 with STARTTLS, 465 with implicit TLS).")
    smtp_security: str = _setting(
        "starttls", "starttls, tls, or none (none only for a relay on this machine)."
    )
    smtp_username: str = _setting("", "SMTP login, if the server wants one.")
    smtp_password: str = _setting("", "SMTP password.")
    smtp_ca_file: str = _setting("", "PEM file of CAs to trust for the SMTP server instead of the system's.")
    mail_from: str = _setting(
        "", "From address of customer notifications, like Acme Support <support@acme.com>."
    )
    poll_interval: int = _setting(
        60,
        "Seconds between read-backs of ticket status from helpdesks whose webhooks are not reliable "
        "(django-helpdesk); 0 turns it off.",
    )
    notify_in_web: bool = _setting(
        True,
        "Send customer notifications and run SLA timers in each web process (off: `bugline worker` does).",
    )

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The current key, then the earlier ones still accepted (BUGLINE_SECRET_KEY_PREVIOUS)."""
        previous = tuple(k.strip() for k in self.secret_key_previous.split(",") if k.strip())
        return (self.secret_key, *previous)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'bugline.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; raise SettingsError on anything wrong."""
        known: dict[str, dataclasses.Field[Any]] = {}
        for f in dataclasses.fields(cls):
            known[f.metadata.get("env") or PREFIX + f.name.upper()] = f
            known.setdefault(PREFIX + f.name.upper(), f)
        unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known)
        if unknown:
            raise SettingsError(f"unknown setting {', '.join(unknown)}; run `bugline settings` to list them")
        values: dict[str, Any] = {}
        for name, f in known.items():
            if name in environ and f.name not in values:
                values[f.name] = _parse(name, f, environ[name])
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        url = self.effective_database_url
        if not url.startswith(("sqlite", "postgresql", "postgres")):
            raise SettingsError(f"BUGLINE_DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url!r}")
        for name in ("public_url", "s3_endpoint_url", "s3_public_endpoint_url"):
            value = getattr(self, name)
            if value and urlsplit(value).scheme not in ("http", "https"):
                raise SettingsError(f"{PREFIX}{name.upper()} must be an http(s) URL, got {value!r}")
        if self.secret_key and len(self.secret_key) < 32:
            raise SettingsError("BUGLINE_SECRET_KEY must be at least 32 characters")
        if not 0 <= self.rate_limit_share_seconds <= 60:
            raise SettingsError("BUGLINE_RATE_LIMIT_SHARE_SECONDS must be from 0 (off) to 60 seconds")
        if self.poll_interval < 0:
            raise SettingsError("BUGLINE_POLL_INTERVAL must be 0 (off) or a number of seconds")
        if self.smtp_security not in ("starttls", "tls", "none"):
            raise SettingsError("BUGLINE_SMTP_SECURITY must be one of starttls, tls, none")
        if self.smtp_host and not self.mail_from:
            raise SettingsError("BUGLINE_MAIL_FROM is needed when BUGLINE_SMTP_HOST is set")
        if not 0 <= self.retention_media_days <= 36_500 or not 0 <= self.retention_personal_days <= 36_500:
            raise SettingsError("BUGLINE_RETENTION_*_DAYS must be a number of days from 0 (keep) to 36500")
        if not 0 <= self.abandoned_upload_hours <= 8_760:
            raise SettingsError("BUGLINE_ABANDONED_UPLOAD_HOURS must be hours from 0 (wait for ever) to 8760")
        if not 1 <= self.db_pool_size <= 500:
            raise SettingsError("BUGLINE_DB_POOL_SIZE must be between 1 and 500")
        if any(len(k) < 32 for k in self.secret_keys[1:]):
            raise SettingsError("each key in BUGLINE_SECRET_KEY_PREVIOUS must be at least 32 characters")
        if self.log_format not in ("text", "json"):
            raise SettingsError("BUGLINE_LOG_FORMAT must be text or json")
        if self.metrics_token and len(self.metrics_token) < 16:
            raise SettingsError("BUGLINE_METRICS_TOKEN must be at least 16 characters (it guards /metrics)")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise SettingsError("BUGLINE_LOG_LEVEL must be one of debug, info, warning, error")
        if self.upload_url_ttl > 7 * 24 * 3600:  # S3's limit for presigned URLs (SigV4)
            raise SettingsError("BUGLINE_UPLOAD_URL_TTL must be at most 604800 seconds (7 days)")
        if self.media_link_ttl > 7 * 24 * 3600:
            raise SettingsError("BUGLINE_MEDIA_LINK_TTL must be at most 604800 seconds (7 days)")
        if not 0 < self.port < 65536:
            raise SettingsError("PORT must be between 1 and 65535")
        for name in (
            "max_report_bytes",
            "max_attachment_bytes",
            "max_recording_bytes",
            "max_attachments",
            "upload_url_ttl",
            "rate_limit_per_key",
            "rate_limit_per_ip",
            "outbox_concurrency",
            "outbox_lease",
            "media_link_ttl",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{PREFIX}{name.upper()} must be a positive number")

    def with_secret(self) -> Settings:
        """Fill in a secret key: the configured one, or one generated once into DATA_DIR."""
        if self.secret_key:
            return self
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise SettingsError(
                f"{path} holds a secret shorter than 32 characters; delete it to make a new one"
            )
        return dataclasses.replace(self, secret_key=secret)


def _parse(name: str, f: dataclasses.Field[Any], raw: str) -> Any:
    kind = type(f.default)
    try:
        if kind is int:
            return int(raw)
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if issubclass(kind, Path):
            return Path(raw)
        return raw.strip()
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting, for `bugline settings`."""
    rows = []
    for f in dataclasses.fields(Settings):
        rows.append((f.metadata.get("env") or PREFIX + f.name.upper(), str(f.default), f.metadata["help"]))
    return rows
