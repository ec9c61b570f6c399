"""Settings: defaults, then `config.toml`, then `LUMINA_*` environment variables (highest wins).

All paths come from platformdirs unless `LUMINA_HOME` is set, which puts data, config and logs
under one folder so tests and demos never touch a real profile.

A broken `config.toml` or a wrong-typed setting is a `ConfigError` naming the key and where it came
from (the file or the environment variable), so every command can say what to fix; `lumina doctor`
uses `load_settings_or_defaults` to keep running and show the problem. The data folder is created
0700 and the store and queue files 0600 (`ensure_private_dir`/`ensure_private_file`): they hold the
rep's prospects, drafts and outbox.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lumina_tui import paths
from lumina_tui.paths import (  # re-exported: config.data_dir() etc. are used everywhere
    APP_NAME,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    cache_dir,
    config_dir,
    config_file,
    data_dir,
    ensure_private_dir,
    ensure_private_file,
    log_dir,
)

__all__ = [
    "APP_NAME",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "ConfigError",
    "Settings",
    "cache_dir",
    "config_dir",
    "config_file",
    "data_dir",
    "ensure_private_dir",
    "ensure_private_file",
    "load_settings",
    "log_dir",
]


class ConfigError(ValueError):
    """A setting Lumina cannot use: `key` names it (None when the whole file is unreadable)."""

    code = "invalid_config"
    exit_code = 2

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.key, "message": self.message}


class WorkerSettings(BaseSettings):
    """Timings of the send worker; settings so that tests can shorten them."""

    model_config = SettingsConfigDict(extra="ignore")

    lease_seconds: float = 60.0
    sweep_interval_seconds: float = 60.0
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 900.0
    max_age_seconds: float = 24 * 3600.0
    idle_exit_seconds: float = 300.0
    heartbeat_interval_seconds: float = 2.0
    heartbeat_stale_seconds: float = 15.0
    polling_delay_seconds: float = 0.02
    threads: int = 2
    autostart_sidecar: bool = True
    # An email waiting for the rep to sign in again is looked at again after this long anyway.
    sign_in_recheck_seconds: float = 3600.0
    # Mailbox sync (replies and bounces) runs this often on a thread of its own; 0 turns it off.
    mailbox_sync_interval_seconds: float = 60.0
    # The event log's consumers (stats, alerts, learning) look for new events this often anyway.
    consumer_interval_seconds: float = 2.0
    # Team mode: the periodic work (sweep, mailbox sync, consumers) runs on the worker holding this
    # lease (services/leases.py); a dead holder on another machine is replaced after this long.
    periodic_lease_seconds: float = 20.0


class ComposerSettings(BaseSettings):
    """How the composer behaves; a rep can turn the automatic AI off."""

    model_config = SettingsConfigDict(extra="ignore")

    save_interval_ms: int = 500
    auto_personalize: bool = True
    auto_personalize_pause_ms: int = 1500
    score_pause_ms: int = 600
    tone_settle_ms: int = 400


class GoogleSettings(BaseSettings):
    """The Google OAuth client Lumina signs in with (README: "Register Lumina with Google").

    A desktop ("installed") app's client secret is not confidential (Google says so), but it is still
    registered with the log scrubber like every secret. `api_url` points the Gmail client elsewhere
    (tests: the local fake); None means Google's own endpoint.
    """

    model_config = SettingsConfigDict(extra="ignore")

    client_id: str | None = None
    client_secret: str | None = Field(default=None, repr=False)
    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    api_url: str | None = None
    timeout_seconds: float = 30.0


class MicrosoftSettings(BaseSettings):
    """The Microsoft Entra app Lumina signs in with (README: "Register Lumina with Microsoft")."""

    model_config = SettingsConfigDict(extra="ignore")

    client_id: str | None = None
    authority: str = "https://login.microsoftonline.com/common"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    timeout_seconds: float = 30.0


class MailboxLimit(BaseSettings):
    """How many messages one mailbox may send; 0 means no limit."""

    model_config = SettingsConfigDict(extra="ignore")

    per_minute: int = 0
    per_day: int = 0


class GmailLimit(MailboxLimit):
    per_minute: int = 20
    per_day: int = 500


class OutlookLimit(MailboxLimit):
    per_minute: int = 30
    per_day: int = 10000


class SendLimitSettings(BaseSettings):
    """Per-mailbox send caps by account kind, below the providers' own (Gmail: 500 a day for a free
    account, 2,000 for Workspace; Exchange Online: 30 a minute, 10,000 recipients a day), so the worker
    spreads sends instead of being refused. An account's own `per_minute` / `per_day` settings win."""

    model_config = SettingsConfigDict(extra="ignore")

    gmail: GmailLimit = Field(default_factory=GmailLimit)
    outlook: OutlookLimit = Field(default_factory=OutlookLimit)
    smtp: MailboxLimit = Field(default_factory=MailboxLimit)
    maildir: MailboxLimit = Field(default_factory=MailboxLimit)

    def for_kind(self, provider: str) -> MailboxLimit:
        return getattr(self, provider, None) or MailboxLimit()


class ApiSettings(BaseSettings):
    """`lumina serve` (team mode): where it listens, token lifetimes, body limits, webhook window."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # The URL clients and providers reach this server at (tracking links are built on it).
    public_url: str | None = None
    access_token_seconds: int = Field(default=900, ge=30, le=86400)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    # Larger bodies get 413 before they are read whole (a draft's body is capped far below this).
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Providers batch events: SendGrid's largest batches stay well under this.
    webhook_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # A webhook whose signed timestamp is older than this (or this far in the future) is refused.
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    # Threads (per server process) that run the handlers, which spend their time on the CPU (the
    # store, the MIME check) under one GIL: anyio's default of 40 had 40 threads taking turns at
    # the GIL and the write lock, ~50% more CPU per request at 200 clients than 8 (bench/FINDINGS.md,
    # "Team API"). Requests beyond this wait their turn in order; more cores: `serve --workers`.
    threads: int = Field(default=8, ge=1, le=256)
    # The AI routes wait seconds on the model: they run in a pool of their own, so a burst of them
    # cannot hold every handler thread while drafts and sends wait.
    ai_threads: int = Field(default=16, ge=1, le=256)


class Settings(BaseSettings):
    """Everything Lumina reads from the environment and `config.toml`."""

    model_config = SettingsConfigDict(
        env_prefix="LUMINA_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str | None = None
    queue_url: str | None = None

    ai_engine: Literal["auto", "offline", "openai"] = "auto"
    ai_base_url: str | None = None
    ai_model: str = "gpt-4o-mini"
    ai_api_key: str | None = Field(default=None, repr=False)
    ai_timeout_seconds: float = 30.0
    ai_requests_per_minute: int = 60
    #: How the OpenAI-compatible engine asks for JSON: auto tries json_schema, then json_object,
    #: then plain text, learning what the server accepts; the others pin one mode.
    ai_response_format: Literal["auto", "json_schema", "json_object", "text"] = "auto"
    #: Bound on each AI reply (max_tokens). None: sized from the draft (256..4096).
    ai_max_tokens: int | None = Field(default=None, ge=16, le=131072)

    undo_window_seconds: float = 10.0
    # How long a command waits for another process's write lock before saying the store is locked.
    database_busy_timeout_seconds: float = Field(default=30.0, ge=0)

    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    google: GoogleSettings = Field(default_factory=GoogleSettings)
    microsoft: MicrosoftSettings = Field(default_factory=MicrosoftSettings)
    send_limits: SendLimitSettings = Field(default_factory=SendLimitSettings)
    composer: ComposerSettings = Field(default_factory=ComposerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    keymap: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    # Paths are functions of the environment, not fields, so LUMINA_HOME always wins.
    @property
    def data_dir(self) -> Path:
        return data_dir()

    @property
    def config_dir(self) -> Path:
        return config_dir()

    @property
    def log_dir(self) -> Path:
        return log_dir()

    @property
    def config_file(self) -> Path:
        return config_file()

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lumina.db"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.db_path}"

    def resolved_ai_api_key(self) -> str | None:
        """The AI key from settings, then OPENAI_API_KEY; the keyring is the service layer's job."""
        return self.ai_api_key or os.environ.get("OPENAI_API_KEY") or None

    def ensure_dirs(self) -> None:
        paths.ensure_dirs()


def _env_name(location: tuple[int | str, ...]) -> str:
    return "LUMINA_" + "__".join(str(part) for part in location).upper()


def _config_error(exc: PydanticValidationError) -> ConfigError:
    """The first wrong setting, named as a rep writes it, and where it came from."""
    first = exc.errors()[0]
    location = tuple(part for part in first.get("loc", ()) if not isinstance(part, int)) or ("settings",)
    key = ".".join(str(part) for part in location)
    env = _env_name(location)
    source = f"the environment variable {env}" if env in os.environ else str(config_file())
    value = first.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
    more = len(exc.errors()) - 1
    tail = f"; {more} more setting{'s' if more > 1 else ''} also wrong" if more > 0 else ""
    reason = first.get("msg", "invalid value")
    return ConfigError(f"setting {key} in {source}: {reason}{shown}{tail}", key=key)


def load_settings(**overrides: Any) -> Settings:
    """Read settings afresh (tests change the environment between calls); ConfigError if unusable."""
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file()} is not valid TOML: {exc}", key=None) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_file()} is not UTF-8 text", key=None) from exc
    except PydanticValidationError as exc:
        raise _config_error(exc) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {config_file()}: {exc.strerror or exc}", key=None) from exc


def load_settings_or_defaults() -> tuple[Settings, ConfigError | None]:
    """The settings, or the defaults and why the configured ones cannot be used (for `doctor`)."""
    try:
        return load_settings(), None
    except ConfigError as problem:
        return Settings.model_construct(), problem


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    """One Settings per process for long-running callers (the TUI, the worker)."""
    return load_settings()
