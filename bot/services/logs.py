"""Logging for `clearance serve`: plain or JSON lines, with request ids and no secrets."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

REQUEST: ContextVar[dict[str, str] | None] = ContextVar("clearance_request", default=None)
# Slack tokens of every kind, and the secrets of the running server (added at start-up).
_TOKEN = re.compile(r"\b(?:xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
REDACTED = "[redacted]"
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# Request ids: a random prefix, the process id (workers fork after import) and a counter.
_PREFIX = uuid.uuid4().hex[:3]
_NUMBERS = itertools.count(1)


def start_request(team: str | None) -> dict[str, str]:
    """Give the current Slack request an id; log lines while it is handled carry it."""
    number = next(_NUMBERS) % 16**6
    context = {"request_id": f"{_PREFIX}{os.getpid() % 16**3:03x}{number:06x}"}
    if team:
        context["team"] = team
    REQUEST.set(context)
    return context


class RedactSecrets(logging.Filter):
    """Replace tokens and configured secrets in every log record's text with [redacted]."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in secrets or () if len(s) >= 8]

    def redact(self, text: str) -> str:
        """Return the text without tokens or secrets."""
        text = _TOKEN.sub(REDACTED, text)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) before any handler formats it."""
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class AddRequest(logging.Filter):
    """Copy the current request's id and team onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` and `team` when a request is being handled."""
        for key, value in (REQUEST.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, team, error id."""

    FIELDS = ("request_id", "team", "error_id")

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self.FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                data[key] = value
        if record.exc_text:
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(log_format: str, secrets: list[SecretStr | None]) -> None:
    """Log to stderr as plain text or JSON lines (CLEARANCE_LOG_FORMAT), never with secrets."""
    handler = logging.StreamHandler()
    json_lines = log_format.strip().lower() == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(PLAIN))
    handler.addFilter(AddRequest())
    handler.addFilter(RedactSecrets([s.get_secret_value() for s in secrets if s is not None]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    if json_lines:
        # gunicorn's own loggers write through their own handlers; send them here instead.
        for name in ("gunicorn.error", "gunicorn.access"):
            logging.getLogger(name).propagate = True
