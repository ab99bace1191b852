"""What every listener shares: dependencies, answering a question, admin checks, failures."""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.errors import BotError, QuestionError
from bot.services.asking import KnowledgeCache, answer_question, ask
from bot.services.audit_writer import AuditWriter
from bot.services.held_answers import AnswersUnavailable, HeldAnswer, Question
from bot.services.logs import REQUEST
from bot.services.metrics import count_question
from bot.services.workspace import current_workspace
from bot.settings import Settings
from handlers.render.answer_card import render_answer
from handlers.render.blocks import Payload, escape
from handlers.render.notices import render_failure, render_notice, render_question_error
from storage.choices import store_choice
from storage.db import session_scope
from storage.tables.audit import AdminAction

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("clearance.handlers")
ANSWER_BUDGET_S = 2.0  # answer inside the ack when ready within this; Slack allows 3 s in all
WORKING = "Working on it…"
GROUP_CACHE_S = 300.0
AFTER_ACK_WORKERS = 8


@dataclass
class Deps:
    """The dependencies listeners need, built once in `bot.app.create_app`."""

    settings: Settings
    engine: Engine
    cache: KnowledgeCache
    clock: Callable[[], datetime]
    audit: AuditWriter | None = None  # built from the engine when not given

    def __post_init__(self) -> None:
        if self.audit is None:
            self.audit = AuditWriter(self.engine)

    _groups: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _after_ack: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            AFTER_ACK_WORKERS, thread_name_prefix="after-ack"
        )
    )

    def later(self, work: Callable[[], Any], *, respond: Respond | None = None) -> None:
        """Run Slack calls and other slow work beside the ack, on a worker thread.

        The app processes each request before responding (no 10 ms ack polling), so a listener
        acks with what it computed and hands the rest here; the work starts at once and the
        listener returns without waiting for it. A failure is logged with an error id, which
        the user gets through `respond` when there is one.
        """

        def run() -> None:
            try:
                work()
            except Exception as exc:
                payload = failure_payload(exc)
                if respond is not None:
                    try:
                        respond(**payload, response_type="ephemeral", replace_original=False)
                    except Exception:
                        log.exception("could not tell the user about the error")

        # The worker thread logs with the request's id and team, as the listener did.
        self._after_ack.submit(contextvars.copy_context().run, run)

    def team_scope(self) -> str | None:
        """Return the team whose rows a request may see (None: one workspace, all rows)."""
        return current_workspace().team_id if self.settings.multi_workspace() else None

    def may_see(self, row: Any) -> bool:
        """Return whether the current request's workspace may see a row (always, one workspace)."""
        team = self.team_scope()
        return team is None or getattr(row, "team_id", None) == team

    def is_admin(self, user_id: str, client: WebClient) -> bool:
        """Return whether the user is a listed admin or in a listed admin user group."""
        if user_id in self.settings.admin_users():
            return True
        for group in sorted(self.settings.admin_groups()):
            if user_id in self._group_members(group, client):
                return True
        return False

    def _group_members(self, group: str, client: WebClient) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._groups.get(group)
            if cached and now - cached[0] < GROUP_CACHE_S:
                return cached[1]
        try:
            users = frozenset(client.usergroups_users_list(usergroup=group).get("users") or ())
        except SlackApiError:
            log.exception("could not list members of admin group %s", group)
            users = frozenset()
        with self._lock:
            self._groups[group] = (now, users)
        return users

    def refuses_submission(
        self,
        ack: Any,
        client: WebClient,
        *,
        user: str,
        block: str,
        message: str,
        action: str,
        target: str | None,
    ) -> bool:
        """Answer a non-admin's modal submission with an inline error and audit it; else False."""
        if self.is_admin(user, client):
            return False
        ack(response_action="errors", errors={block: message})
        self.later(
            lambda: self.record_admin_action(
                user_id=user, action=action, target=target, allowed=False
            )
        )
        return True

    def record_admin_action(
        self,
        *,
        user_id: str,
        action: str,
        target: str | None,
        allowed: bool,
        revision: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Append an attempted admin action to the admin audit log."""
        with session_scope(self.engine) as session:
            session.add(
                AdminAction(
                    **current_workspace().columns(),
                    created_at=self.clock(),
                    user_id=user_id,
                    action=action,
                    target=target,
                    allowed=allowed,
                    revision=revision,
                    reason=reason,
                )
            )
            session.commit()


def bind(listener: Callable[..., None], deps: Deps) -> Callable[..., None]:
    """Return the listener with `deps` given, for Bolt to pass the rest by parameter name."""
    # Given positionally: Bolt passes only the positional parameters it reads (getfullargspec's
    # `args`), and a partial given `deps=` by keyword turns every later parameter keyword-only.
    return partial(listener, deps)


def failure_payload(exc: BaseException) -> Payload:
    """Log an unexpected error with an id and return the short message for the user."""
    error_id = uuid.uuid4().hex[:10]
    log.error("error %s: %s", error_id, exc, exc_info=exc, extra={"error_id": error_id})
    return render_failure(error_id)


def guarded(fn: Callable[[], Payload]) -> Payload:
    """Run a renderer; turn a user error into its message and a crash into an error id."""
    try:
        return fn()
    except BotError as exc:
        return render_notice(exc.message if exc.markup else escape(exc.message))
    except Exception as exc:
        return failure_payload(exc)


def answer_payload(
    deps: Deps, text: str, *, actor: str, buttons: bool = True, share: bool = True
) -> Payload:
    """Answer a question as a card, or return the parser's message with candidates."""
    try:
        answer = ask(deps.engine, deps.cache, text, actor=actor, now=deps.clock(), audit=deps.audit)
    except QuestionError as exc:
        return question_error_payload(deps, exc, text)
    count_question(answer.verdict)
    data = answer.to_dict()
    return render_answer(data, buttons=buttons, share=share, names=display_names(deps, data))


def display_names(deps: Deps, a: dict[str, Any]) -> dict[str, str]:
    """Return the display names of an answer's model and country, from the knowledge cache,
    and (with CLEARANCE_PUBLIC_URL) the link its decision id is shown as."""
    kb = deps.cache.get()
    names = {}
    base = (deps.settings.public_url or "").rstrip("/")
    if base and a.get("decision_id"):
        # A Clearance link unfurls wherever it is pasted; a bare id would need the bot to read
        # every channel message (see "Link unfurls" in the README).
        names["decision_url"] = f"{base}/decisions/{a['decision_id']}"
    model = kb.table.models.get(a.get("model") or "")
    if model is not None and model.name:
        names["model"] = model.name
    place = kb.places.places.get(a.get("country") or "")
    if place is not None:
        names["country"] = place.name
    return names


def question_error_payload(deps: Deps, exc: QuestionError, text: str) -> Payload:
    """Return the parser's message; its candidates are stored so each button is a short id."""
    candidates = [c.to_dict() for c in exc.candidates]
    phrase = exc.phrase or _quoted(exc.message)
    choice = None
    if candidates:
        choice = store_choice(
            deps.engine,
            {
                "q": text,
                "phrase": phrase,
                "code": exc.code,
                "values": [c.value for c in exc.candidates],
            },
            now=deps.clock(),
        )
    return render_question_error(
        exc.code, exc.message, candidates, text, phrase=phrase, choice=choice
    )


def _quoted(message: str) -> str | None:
    """Return the first 'quoted' phrase of a parser message (the part it could not resolve)."""
    match = re.search(r"(?:^|\s)'([^']+)'(?:[\s.,;:!?]|$)", message)
    return match.group(1) if match else None


def answer_in_ack(
    deps: Deps,
    text: str,
    *,
    actor: str,
    on_late: Callable[[Payload], Any],
    budget: float = ANSWER_BUDGET_S,
    held: HeldAnswer | None = None,
) -> Payload | None:
    """Answer for the ack: ready unless the audit write is slow, then delivered via on_late.

    Parsing and deciding are pure and fast, so they run here; only the audit write can be slow.
    The answer is never shown before its decision is committed to the audit log: with `held`
    (HTTP mode) the front waits for the commit off this thread, otherwise this call does.
    """
    if held is not None and _held_elsewhere(deps, held, text, actor, on_late, budget):
        return {}
    now = deps.clock()
    try:
        answer = answer_question(deps.cache, text, now=now)
    except QuestionError as exc:
        return question_error_payload(deps, exc, text)
    except Exception as exc:
        return failure_payload(exc)
    count_question(answer.verdict)
    data = answer.to_dict()
    payload = render_answer(data, names=display_names(deps, data))
    assert deps.audit is not None
    done = deps.audit.submit(answer, actor=actor, now=now)
    if held is not None:
        # The front calls these on its event loop: each runs in a copy of this request's
        # context, so what it logs carries the request's id and team.
        failing, lating = contextvars.copy_context(), contextvars.copy_context()
        held.hold(
            done,
            {**payload, "response_type": "ephemeral"},
            budget_s=budget,
            failed=lambda exc: failing.run(_failed_reply, exc),
            late=lambda: lating.run(
                _deliver_late, deps, done, payload, on_late, contextvars.copy_context()
            ),
        )
        return payload
    try:
        done.result(timeout=budget)
        return payload
    except TimeoutError:
        _deliver_late(deps, done, payload, on_late, contextvars.copy_context())
        return None
    except Exception as exc:
        return failure_payload(exc)


def _held_elsewhere(
    deps: Deps,
    held: HeldAnswer,
    text: str,
    actor: str,
    on_late: Callable[[Payload], Any],
    budget: float,
) -> bool:
    """Send the question to the front's answer process and hold its reply; False if it is down.

    The reply is the answer, committed, or the message to show instead.
    """
    if held.ask_elsewhere is None:
        return False
    try:
        reply = held.ask_elsewhere(Question(text, actor, current_workspace(), REQUEST.get()))
    except AnswersUnavailable:
        return False  # answered here instead
    failing, lating = contextvars.copy_context(), contextvars.copy_context()
    held.hold(
        reply,
        None,
        budget_s=budget,
        failed=lambda exc: failing.run(_failed_reply, exc),
        late=lambda: lating.run(
            _deliver_late, deps, reply, None, on_late, contextvars.copy_context()
        ),
    )
    return True


def _failed_reply(exc: BaseException) -> Payload:
    """Return the private reply for an answer whose decision could not be recorded."""
    return {**failure_payload(exc), "response_type": "ephemeral"}


def _deliver_late(
    deps: Deps,
    done: Future[Any],
    payload: Payload | None,
    on_late: Callable[[Payload], Any],
    context: contextvars.Context,
) -> Payload:
    """Send the answer through `on_late` once its decision is committed; return the ack to send.

    Without `payload` the answer is the future's result, the answer process's encoded reply.
    `context` is the request's, so the delivery logs with its request id and team.
    """

    def deliver(f: Future[Any]) -> None:
        exc = f.exception()
        try:
            if exc is not None:
                on_late(failure_payload(exc))
            elif payload is not None:
                on_late(payload)
            else:
                reply = orjson.loads(f.result())
                reply.pop("response_type", None)  # `on_late` sets it
                on_late(reply)
        except Exception:
            log.exception("could not deliver a late answer")

    # Not on the audit writer's thread, which calls this: posting to Slack there would hold up
    # every other answer's commit.
    done.add_done_callback(lambda f: context.run(deps.later, lambda: deliver(f)))
    return {"text": WORKING, "response_type": "ephemeral"}
