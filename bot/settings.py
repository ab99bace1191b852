"""Settings from the environment, in one object built once at start-up and passed down."""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.errors import BotError
from bot.domain.tracking.severity import DEFAULT_KEYWORDS
from storage.db import DEFAULT_URL, normalize_url

# Values people leave in from templates; starting with one of these is not a real secret.
_PLACEHOLDER = re.compile(
    r"^(|x+|\.\.\.|<.*>|changeme|change-me|todo|placeholder|secret|your[-_ ].*|"
    r"xox[bpa]-(x+|your.*|\.\.\.|placeholder.*|changeme)|xapp-(x+|your.*|\.\.\.|placeholder.*))$",
    re.I,
)


class ConfigError(BotError):
    """A setting is missing or wrong; the message names the variable."""

    code = "config"


DEFAULT_MAX_WORKERS = 4
# A list read from one variable as comma-separated words ("U012,S0COMP"), not as JSON.
Words = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Every setting Clearance reads; see the README for each variable."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_URL, alias="CLEARANCE_DATABASE_URL")
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="CLEARANCE_SLACK_API_URL")
    admins: Words = Field((), alias="CLEARANCE_ADMINS")
    review_channel: str | None = Field(None, alias="CLEARANCE_REVIEW_CHANNEL")
    audit_channel: str | None = Field(None, alias="CLEARANCE_AUDIT_CHANNEL")
    max_body_bytes: int = Field(1_000_000, alias="CLEARANCE_MAX_BODY_BYTES")
    high_severity_keywords: Words = Field(DEFAULT_KEYWORDS, alias="CLEARANCE_HIGH_KEYWORDS")
    fetch_timeout_s: float = Field(20.0, alias="CLEARANCE_FETCH_TIMEOUT_S")
    fetch_max_bytes: int = Field(5_000_000, alias="CLEARANCE_FETCH_MAX_BYTES")
    scheduler: bool = Field(True, alias="CLEARANCE_SCHEDULER")
    subscribe_anyone: bool = Field(False, alias="CLEARANCE_SUBSCRIBE_ANYONE")
    seed_sources: bool = Field(True, alias="CLEARANCE_SEED_SOURCES")
    tick_s: float = Field(30.0, alias="CLEARANCE_TICK_S")
    delivery_tick_s: float = Field(5.0, alias="CLEARANCE_DELIVERY_TICK_S")
    delivery_lease_s: float = Field(120.0, alias="CLEARANCE_DELIVERY_LEASE_S")
    cache_dir: str | None = Field(None, alias="CLEARANCE_CACHE_DIR")
    max_file_bytes: int = Field(20_000_000, ge=1, alias="CLEARANCE_MAX_FILE_BYTES")
    db_connect_timeout_s: float = Field(10.0, gt=0, alias="CLEARANCE_DB_CONNECT_TIMEOUT_S")
    db_statement_timeout_s: float = Field(30.0, gt=0, alias="CLEARANCE_DB_STATEMENT_TIMEOUT_S")
    web_workers: int | None = Field(None, ge=1, le=64, alias="CLEARANCE_WEB_WORKERS")
    web_threads: int = Field(8, ge=1, le=256, alias="CLEARANCE_WEB_THREADS")
    # HTTP mode: each worker answers questions in a process of its own (`bot.answerer`).
    answer_process: bool = Field(True, alias="CLEARANCE_ANSWER_PROCESS")
    sqlite_audit_synchronous: Literal["NORMAL", "FULL"] = Field(
        "FULL", alias="CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS"
    )
    response_url_base: str = Field(
        "https://hooks.slack.com/", alias="CLEARANCE_SLACK_RESPONSE_URL_BASE"
    )
    http_header_timeout_s: float = Field(10.0, gt=0, alias="CLEARANCE_HTTP_HEADER_TIMEOUT_S")
    http_body_timeout_s: float = Field(10.0, gt=0, alias="CLEARANCE_HTTP_BODY_TIMEOUT_S")
    # Open connections per worker process; well under the usual limit of 1,024 open files.
    http_max_connections: int = Field(512, ge=1, le=100_000, alias="CLEARANCE_HTTP_MAX_CONNECTIONS")
    fetch_allowed_addresses: str = Field("", alias="CLEARANCE_FETCH_ALLOWED_ADDRESSES")
    country_list_max_removed: float = Field(
        0.10, ge=0.0, le=1.0, alias="CLEARANCE_COUNTRY_LIST_MAX_REMOVED"
    )

    @field_validator("admins", "high_severity_keywords", mode="before")
    @classmethod
    def _words(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        # Admins may also be separated by semicolons, as the README has always allowed.
        text = value.replace(";", ",") if info.field_name == "admins" else value
        return tuple(w.strip() for w in text.split(",") if w.strip())

    # Hours a review request may stay open before its thread gets a reminder (0: never).
    review_remind_after_h: float = Field(24.0, ge=0, alias="CLEARANCE_REVIEW_REMIND_AFTER_H")
    log_format: Literal["plain", "json"] = Field("plain", alias="CLEARANCE_LOG_FORMAT")
    # GET /metrics needs `Authorization: Bearer <this>`; unset, it answers loopback clients only.
    metrics_token: SecretStr | None = Field(None, alias="CLEARANCE_METRICS_TOKEN")
    # Links <public_url>/decisions/<id> pasted in Slack unfurl to their answer cards.
    public_url: str | None = Field(None, alias="CLEARANCE_PUBLIC_URL")
    # Multi-workspace installs: the workspace (T…) or org (E…) whose bot sends admin notices.
    admin_team: str | None = Field(None, alias="CLEARANCE_ADMIN_TEAM")
    # Multi-workspace installs (Bolt's OAuth flow): set these and no SLACK_BOT_TOKEN.
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_scopes: str = Field(
        "commands,chat:write,app_mentions:read,im:history,channels:history,groups:history,"
        "usergroups:read,links:read,links:write",
        alias="SLACK_SCOPES",
    )

    def multi_workspace(self) -> bool:
        """Return whether OAuth settings and no bot token ask for installs into many workspaces."""
        token = self.slack_bot_token.get_secret_value().strip() if self.slack_bot_token else ""
        secret = self.slack_client_secret.get_secret_value() if self.slack_client_secret else ""
        return bool(self.slack_client_id and secret and not token)

    # Restricted-party lists (see "Screening" in the README).
    list_max_bytes: int = Field(200_000_000, alias="CLEARANCE_LIST_MAX_BYTES")
    list_fetch_timeout_s: float = Field(300.0, alias="CLEARANCE_LIST_FETCH_TIMEOUT_S")
    list_max_removed: float = Field(0.10, ge=0.0, le=1.0, alias="CLEARANCE_LIST_MAX_REMOVED")
    screening_url: str | None = Field(None, alias="CLEARANCE_SCREENING_URL")
    screening_dataset: str = Field("default", alias="CLEARANCE_SCREENING_DATASET")

    @field_validator("sqlite_audit_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("fetch_allowed_addresses")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in (a.strip() for a in value.split(",")):
            if item:
                try:
                    ip_network(item, strict=False)
                except ValueError as exc:
                    raise ValueError(f"CLEARANCE_FETCH_ALLOWED_ADDRESSES: {exc}") from None
        return value

    def secrets(self) -> list[SecretStr | None]:
        """Return the secrets the logs must never show."""
        return [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
            self.metrics_token,
        ]

    def workers(self) -> int:
        """Return how many HTTP worker processes to run.

        Default: one per usable CPU, up to 4 (each worker holds its own copy of the rule table
        and customer list). On SQLite with fully synced audit commits, one: the workers' fsyncs
        of the one file would queue behind each other, and answers got slower, not faster.
        """
        if self.web_workers is not None:
            return self.web_workers
        if (
            normalize_url(self.database_url).startswith("sqlite")
            and self.sqlite_audit_synchronous == "FULL"
        ):
            return 1
        try:
            cpus = len(os.sched_getaffinity(0))  # honours a container's CPU set
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        return max(1, min(cpus, DEFAULT_MAX_WORKERS))

    def snapshot_dir(self) -> Path | None:
        """Return where `clearance ask` keeps knowledge snapshots (None: CLEARANCE_CACHE_DIR=off).

        Default: the platform's user cache directory (~/.cache/clearance on Linux).
        """
        value = (self.cache_dir or "").strip()
        if value.lower() == "off":
            return None
        if value:
            return Path(value).expanduser()
        return platformdirs.user_cache_path("clearance", appauthor=False)

    def fetch_allowed_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Return the non-public networks that sources may still be fetched from."""
        items = [a.strip() for a in self.fetch_allowed_addresses.split(",") if a.strip()]
        try:
            return tuple(ip_network(a, strict=False) for a in items)
        except ValueError as exc:
            raise ConfigError(f"CLEARANCE_FETCH_ALLOWED_ADDRESSES: {exc}") from None

    def high_keywords(self) -> tuple[str, ...]:
        """Return the keywords that make a change high severity."""
        return self.high_severity_keywords

    def admin_users(self) -> frozenset[str]:
        """Return the Slack user ids listed in CLEARANCE_ADMINS."""
        return frozenset(a for a in self._admin_items() if not a.startswith("S"))

    def admin_groups(self) -> frozenset[str]:
        """Return the user-group ids (S…) listed in CLEARANCE_ADMINS."""
        return frozenset(a for a in self._admin_items() if a.startswith("S"))

    def _admin_items(self) -> tuple[str, ...]:
        return self.admins

    def socket_mode(self) -> bool:
        """Return whether an app-level token asks for Socket Mode."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    def require_slack(self, *, socket_mode: bool) -> None:
        """Stop start-up with a message naming each missing or placeholder secret."""
        problems = []
        needed: list[tuple[str, SecretStr | None, str | None]] = (
            [("SLACK_CLIENT_SECRET", self.slack_client_secret, None)]
            if self.multi_workspace() and not socket_mode
            else [("SLACK_BOT_TOKEN", self.slack_bot_token, "xoxb-")]
        )
        if socket_mode:
            needed.append(("SLACK_APP_TOKEN", self.slack_app_token, "xapp-"))
        else:
            needed.append(("SLACK_SIGNING_SECRET", self.slack_signing_secret, None))
        for name, value, prefix in needed:
            secret = value.get_secret_value().strip() if value is not None else ""
            if not secret:
                problems.append(f"{name} is not set.")
            elif _PLACEHOLDER.match(secret):
                problems.append(f"{name} still holds a placeholder value; set the real secret.")
            elif prefix and not secret.startswith(prefix):
                problems.append(f"{name} should start with '{prefix}'.")
        if problems:
            raise ConfigError(" ".join(problems) + " See 'Connect to Slack' in the README.")
