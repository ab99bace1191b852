"""`clearance serve`: run the Slack bot over HTTP, or in Socket Mode with SLACK_APP_TOKEN."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.cli_input import worker_count


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the Slack bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)."""
    from bot.services.logs import configure_logging
    from bot.services.metrics_dir import use_multiprocess_dir

    use_multiprocess_dir()  # before prometheus-client is imported, so every worker shares it
    from bot.server import serve

    settings = args.settings
    configure_logging(settings.log_format, settings.secrets())
    if args.workers is not None:
        settings = settings.model_copy(update={"web_workers": args.workers})
    serve(settings, http=args.http, host=args.host, port=args.port)
    return 0


def register(sub: Any) -> None:
    """Add `serve` to the main parser."""
    p = sub.add_parser(
        "serve", help="run the Slack bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    p.add_argument("--http", action="store_true", help="force HTTP mode")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")
    p.add_argument(
        "--port", type=int, help="HTTP port (default 3000; in Socket Mode, serve /healthz on it)"
    )
    p.add_argument(
        "--workers",
        type=worker_count,
        metavar="N",
        help="HTTP worker processes (default CLEARANCE_WEB_WORKERS, else one per CPU "
        "up to 4; one on SQLite with FULL audit commits, the default)",
    )
    p.set_defaults(func=cmd_serve)
