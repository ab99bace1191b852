"""`clearance --help` and every subcommand's `--help` read arguments without importing the heavy
libraries the commands themselves use (each `clearance` run is a new process); the kind choices
are the source-kind registry's."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import pkgutil
import subprocess
import sys

import pytest

import bot.cli
from bot.cli.main import GROUPS, build_parser
from bot.domain.tracking.kinds import KIND_NAMES, LIST_KIND_NAMES

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "yaml",
    "rapidfuzz",
    "pycountry",
    "bs4",
    "feedparser",
    "psycopg",
)

# Asks for the help of the main parser and of every subcommand at any depth, in one process, then
# prints which modules are loaded.
EVERY_HELP = """
import argparse, contextlib, io, json, sys
from bot.cli.main import build_parser

def commands(parser, path=()):
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))

paths = list(commands(build_parser()))
for path in paths:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        build_parser().parse_args([*path, "--help"])
print(json.dumps({"paths": [" ".join(p) for p in paths], "modules": sorted(sys.modules)}))
"""


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def test_every_help_imports_nothing_heavy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", EVERY_HELP], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    seen = json.loads(out.splitlines()[-1])
    one_per_group = {
        "",
        "init",
        "ask",
        "rules import",
        "customers show",
        "revisions list",
        "serve",
        "sources add",
        "subscriptions add",
        "digest run",
        "changes list",
        "lists import",
        "screen",
        "audit",
    }
    assert one_per_group <= set(seen["paths"])
    assert _heavy(seen["modules"]) == []


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["sources", "add", "--help"]])
def test_help_as_run_imports_nothing_heavy(args: list[str]) -> None:
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['clearance', *{args!r}]\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: clearance" in proc.stdout
    assert _heavy(json.loads(proc.stdout.splitlines()[-1])) == []


def test_every_command_module_is_registered() -> None:
    modules = [
        importlib.import_module(f"bot.cli.{m.name}") for m in pkgutil.iter_modules(bot.cli.__path__)
    ]
    with_register = {m.__name__ for m in modules if hasattr(m, "register")}
    assert with_register == {g.__name__ for g in GROUPS}


def test_kind_choices_are_the_registry() -> None:
    parser = build_parser()
    for kind in KIND_NAMES:
        args = parser.parse_args(["sources", "add", "--name", "n", "--kind", kind, "--url", "u"])
        assert args.kind == kind
    for kind in LIST_KIND_NAMES:
        assert parser.parse_args(["lists", "import", "--kind", kind, "f"]).kind == kind
    for argv in (["sources", "add", "--name", "n", "--url", "u"], ["lists", "import", "f"]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
            parser.parse_args([*argv, "--kind", "pdf"])
        assert "invalid choice: 'pdf'" in err.getvalue()
        assert "'ofac_sdn'" in err.getvalue()
