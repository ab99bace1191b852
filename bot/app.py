"""The Slack app factory: the one place that builds `App(...)` and its Web API client."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine

from bot.services.asking import KnowledgeCache, utcnow
from bot.services.audit_writer import AuditWriter
from bot.services.change_counter import SharedGeneration
from bot.services.held_answers import HELD_ANSWER, HeldAnswer
from bot.services.logs import start_request
from bot.services.metrics import CountingClient, CountingRateLimit, observe_ack
from bot.services.workspace import set_workspace
from bot.settings import Settings
from bot.verification import FRONT_CHECKED, Rejected, check_response_urls
from handlers import register
from handlers.deps import Deps
from handlers.render.notices import render_failure
from storage.events import claim_event

log = logging.getLogger("clearance.app")
VERIFIED = "clearance_verified"
# What a listener raises on a payload without the fields or values it reads.
MALFORMED = (KeyError, IndexError, TypeError, ValueError)


def create_client(settings: Settings) -> WebClient:
    """Return a Web API client that retries 429s (honouring Retry-After), 5xx and network errors."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return CountingClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            CountingRateLimit(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
        ],
    )


class TimeEachAck(Middleware):
    """Give each request an id for the logs, and time it to its ack (`clearance_ack_seconds`).

    The app processes each request before responding, so the time to the response is the
    time to the ack; an answer the front holds for its audit commit is timed to that commit.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Run the rest of the chain, timed, with the request id set for its log lines."""
        body = req.body
        team = body.get("team_id") or (body.get("team") or {}).get("id")
        start_request(str(team) if team else None)
        set_workspace(body)
        kind = "slash_command" if "command" in body else str(body.get("type") or "unknown")
        client = req.context.client
        if type(client) is WebClient:
            # Bolt gives each request a plain copy of the app's client; counting its calls
            # needs only the subclass's `api_call`, which adds no state to the object.
            client.__class__ = CountingClient
        started = time.perf_counter()
        try:
            return next()
        finally:
            held: HeldAnswer | None = req.context.get(HELD_ANSWER)
            if held is not None and held.committed is not None:
                held.committed.add_done_callback(
                    lambda _done: observe_ack(kind, time.perf_counter() - started)
                )
            else:
                observe_ack(kind, time.perf_counter() - started)


class AnswerEachEventOnce(Middleware):
    """Skip an Events API delivery whose event_id was handled already (Slack's retries)."""

    # A Middleware subclass, not a function: Bolt calls it directly instead of inspecting its
    # arguments on every request.
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Claim the event id in the database; answer 200 without processing if it was taken."""
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not claim_event(self.engine, str(event_id), now=self.clock()):
            log.info("skipping event %s: already handled (a retried delivery)", event_id)
            return BoltResponse(status=200, body="")
        return next()


class RefuseForeignResponseUrls(Middleware):
    """Refuse a payload with a `response_url` outside Slack's response host, before any listener.

    HTTP mode's front refuses these before Bolt sees them; Socket Mode payloads arrive over the
    socket and meet this check first, so no listener ever posts to a host a payload names.
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Answer 400 (logged in one line, without the URL) or go on."""
        if req.context.get(FRONT_CHECKED):
            return next()  # HTTP mode's front refused foreign URLs already
        try:
            check_response_urls(req.body, self.base)
        except Rejected as exc:
            error_id = uuid.uuid4().hex[:10]
            log.warning(
                "rejected request %s: %s (%s; %s)", error_id, exc.status, exc.reason, req.mode
            )
            return BoltResponse(
                status=exc.status, body={"ok": False, "error": exc.reason, "error_id": error_id}
            )
        return next()


class MarkVerified(Middleware):
    """Mark a request as verified: Bolt runs its signature check before any `app.use` middleware."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Set the mark in the request's context and go on."""
        req.context[VERIFIED] = True
        return next()


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    clock: Callable[[], datetime] = utcnow,
    shared: SharedGeneration | None = None,
) -> tuple[App, Deps]:
    """Build the Bolt app with every listener registered.

    `shared` tells the sibling worker processes of a server about rule and customer changes.
    """
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    oauth = None
    client = create_client(settings)
    if settings.multi_workspace():
        from bot.installs import oauth_settings

        oauth = oauth_settings(settings, engine, client)
    app = App(
        client=client,
        signing_secret=secret,
        request_verification_enabled=not settings.socket_mode() or secret is not None,
        process_before_response=True,
        oauth_settings=oauth,
    )  # listeners hand slow work to Deps.later
    deps = build_deps(settings, engine, clock=clock, shared=shared)

    app.use(RefuseForeignResponseUrls(settings.response_url_base))  # before anything acts
    app.use(MarkVerified())  # after Bolt's own signature check and the check above
    app.use(TimeEachAck())
    app.use(AnswerEachEventOnce(engine, clock))

    app.error(_handle_errors)
    # Bolt tries listeners in the order they were added: the slash command, which nearly every
    # request is, comes first, so a question pays for matching one listener, not three.
    register(app, deps)
    _listen_for_revocation(app, installed=oauth is not None)
    return app, deps


def build_deps(
    settings: Settings,
    engine: Engine,
    *,
    clock: Callable[[], datetime] = utcnow,
    shared: SharedGeneration | None = None,
    after_batch: Callable[[], None] | None = None,
) -> Deps:
    """Build what answering needs: the knowledge cache and the audit writer (a worker's, or its
    answer process's; `after_batch` runs after each batch of decisions is committed)."""
    # Revisions are looked up at most once a second; changes made by any worker of this server
    # invalidate at once (`shared`), changes made elsewhere (the CLI) within that second.
    cache = KnowledgeCache(engine, ttl_s=1.0, shared=shared, settings=settings)
    audit = AuditWriter(
        engine, synchronous=settings.sqlite_audit_synchronous, after_batch=after_batch
    )
    return Deps(settings=settings, engine=engine, cache=cache, clock=clock, audit=audit)


def load_knowledge(deps: Deps) -> int:
    """Load the rule table, customers and restricted-party lists now, before the first question.

    Return the rule-table revision loaded. The screening index is built here too, so the first
    question's ack does not wait for it; the lists are refreshed in the background from then on.
    """
    from bot.services.screening_cache import screening_cache

    cache = deps.cache
    revision = cache.get().revision
    cache.screening = screening_cache(deps.engine, ttl_s=cache.ttl_s, settings=deps.settings)
    cache.screening.background = True
    cache.screening.get()
    return revision


def _handle_errors(
    error: Exception, body: dict[str, Any], respond: Any, context: dict[str, Any]
) -> BoltResponse | None:
    """Log a listener's error under an id, tell the user that id, and answer 400 if it was ours."""
    error_id = uuid.uuid4().hex[:10]
    log.error("error %s: %s", error_id, error, exc_info=error)
    # Only a request whose signature passed may make us post to the URL it names.
    if context.get(VERIFIED) and body.get("response_url"):
        try:
            respond(**render_failure(error_id), response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not tell the user about error")
    if isinstance(error, MALFORMED):
        # A listener could not read a field of a signed payload: the request's fault, not ours.
        return BoltResponse(
            status=400, body={"ok": False, "error": "malformed_request", "error_id": error_id}
        )
    return None


def _listen_for_revocation(app: App, *, installed: bool) -> None:
    """Handle Slack's notice that the app's tokens were revoked or the app uninstalled."""
    if installed:
        # tokens_revoked and app_uninstalled remove the workspace's installation, so nothing
        # is posted there afterwards (scheduled posts find no token and record a failure).
        app.enable_token_revocation_listeners()
    else:
        # One workspace: the token lives in the environment; the notice is only logged (an
        # unhandled event would be answered 404, and Slack retries and disables those).
        app.event("app_uninstalled")(_log_revocation)
        app.event("tokens_revoked")(_log_revocation)


def _log_revocation(event: dict[str, Any]) -> None:
    """Log that Slack revoked the app's tokens or uninstalled it (one workspace)."""
    log.warning("Slack says %s: SLACK_BOT_TOKEN no longer works", event.get("type"))
