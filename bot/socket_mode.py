"""Socket Mode: one process on Slack's socket, with the health pages served beside it."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from bot.pages import WSGIApp
from bot.settings import Settings
from bot.worker import build_worker

log = logging.getLogger("clearance.serve")


def run_socket(
    settings: Settings, engine: Engine, revision: int, host: str, port: int | None
) -> None:
    """Serve on Slack's socket until stopped, with the health pages on `port` if one is given."""
    app, wsgi = build_worker(settings, engine=engine, mode="socket")
    log.info("Clearance serving in socket mode at rule-table revision %s", revision)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    if port is not None:  # health endpoint beside the socket, for orchestrators
        threading.Thread(
            target=_waitress, args=(wsgi, host, port, settings), daemon=True, name="healthz"
        ).start()
    from bot.shutdown import run_until_stopped

    run_until_stopped(handler)


def _waitress(wsgi: WSGIApp, host: str, port: int, settings: Settings) -> None:
    """Serve the health pages with waitress on their own port."""
    from waitress import serve as waitress_serve

    waitress_serve(
        wsgi,
        host=host,
        port=port,
        threads=4,
        ident="clearance",
        max_request_body_size=settings.max_body_bytes,
        channel_timeout=30,
        clear_untrusted_proxy_headers=True,
    )
