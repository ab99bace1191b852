"""Where a server's CPU goes per `/clearance` command: by thread, with context switches (Linux).

Run from the project root:

    python bench/slack_threads.py              # clearance, then the bare Bolt app
    python bench/slack_threads.py --requests 8000

It starts each server as `bench/slack_ack.py` does (one worker x 8 threads, `FULL` audit
commits, a fake Slack, a fresh SQLite file), warms it up with 1,000 commands at concurrency 16,
then sends `--requests` more and reads, from /proc, the CPU time each thread of the worker
process and of its answer process (Clearance's, `bot/answerer.py`) spent and how often the
threads were switched out, per command. The event loop is the worker's main thread; in the
answer process the main thread answers and the audit writer commits. A diagnostic, with no
goals: `slack_ack.py` judges the goals.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

CONCURRENCY = 16


def thread_stats(pid: int) -> dict[str, tuple[float, int, int]]:
    """Return each thread's CPU seconds and voluntary and involuntary context switches."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, tuple[float, int, int]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            switches = {
                k: int(v)
                for k, v in (line.split(":") for line in status.splitlines() if "ctxt" in line)
            }
            out[tid] = (
                (int(stat[11]) + int(stat[12])) / tick,
                switches["voluntary_ctxt_switches"],
                switches["nonvoluntary_ctxt_switches"],
            )
    return out


def _stats(pids: list[int]) -> dict[tuple[int, str], tuple[float, int, int]]:
    """Return `thread_stats` of several processes, keyed by process and thread."""
    return {(pid, tid): v for pid in pids for tid, v in thread_stats(pid).items()}


def worker_pid(master: int) -> int:
    """Return the newest child of gunicorn's master: the one worker."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[-1])


def measure(
    name: str, url: str, master: int, secret: str, response_url: str, requests: int
) -> dict[str, Any]:
    """Load one server; return its per-command CPU by thread and context switches."""
    from slack_ack import descendants, run_load

    def load(n: int) -> dict[str, Any]:
        return run_load(
            url,
            concurrency=CONCURRENCY,
            requests=n,
            response_url=response_url,
            secret=secret,
            deadline=time.monotonic() + 300,
        )

    load(1000)
    pid = worker_pid(master)
    helpers = [p for p in descendants(pid) if p != pid]  # the worker's answer process
    before, started = _stats([pid, *helpers]), time.monotonic()
    result = load(requests)
    elapsed, after = time.monotonic() - started, _stats([pid, *helpers])
    per = {
        key: (cpu - before.get(key, (0.0, 0, 0))[0]) * 1000 / requests
        for key, (cpu, _v, _n) in after.items()
    }
    busiest = sorted((v for (proc, _t), v in per.items() if proc == pid), reverse=True)
    answering = sorted((v for (proc, _t), v in per.items() if proc != pid), reverse=True)
    return {
        "server": name,
        "cmd_per_s": round(requests / elapsed),
        "kinds": result["kinds"],
        "cpu_ms_per_cmd": round(sum(per.values()), 3),
        "loop_ms": round(per[(pid, str(pid))], 3),
        "threads_ms": [round(x, 3) for x in busiest[:10]],
        "answer_process_ms": round(sum(answering), 3),
        "answer_threads_ms": [round(x, 3) for x in answering[:4]],
        "voluntary_switches": round(
            sum(v - before.get(k, (0.0, 0, 0))[1] for k, (_c, v, _n) in after.items()) / requests,
            1,
        ),
        "involuntary_switches": round(
            sum(n - before.get(k, (0.0, 0, 0))[2] for k, (_c, _v, n) in after.items()) / requests,
            2,
        ),
    }


@contextlib.contextmanager
def servers(tmp: Path) -> Iterator[tuple[str, str, list[tuple[str, str, int]]]]:
    """Start clearance and the bare app as `slack_ack.py` does.

    Yield the signing secret, a `response_url` of the fake Slack, and both servers.
    """
    from slack_ack import _process

    from tests.e2e.server import free_port, running_server, server_env
    from tests.support.slack_fake import FakeSlack

    env = {
        "CLEARANCE_WEB_WORKERS": "1",
        "CLEARANCE_WEB_THREADS": "8",
        "CLEARANCE_SQLITE_AUDIT_SYNCHRONOUS": "FULL",
    }
    with FakeSlack() as slack:
        port = free_port()
        bare_cmd = [
            sys.executable,
            str(ROOT / "bench" / "slack_ack.py"),
            "--bare-server",
            str(port),
        ]
        with (
            running_server(f"sqlite:///{tmp / 'clearance.db'}", slack, tmp, **env) as server,
            _process(
                bare_cmd, server_env(f"sqlite:///{tmp / 'bare.db'}", slack, **env), port,
                tmp / "bare.log",
            ) as bare,
        ):  # fmt: skip
            secret = server_env("sqlite://", slack)["SLACK_SIGNING_SECRET"]
            yield (
                secret,
                slack.response_url("bench"),
                [
                    ("clearance", server.url, server.process.pid),
                    ("bare", f"http://127.0.0.1:{port}", bare.pid),
                ],
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="measured commands per server")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="slack-threads-") as tmpdir,
        servers(Path(tmpdir)) as (secret, response_url, started),
    ):
        for name, url, master in started:
            print(measure(name, url, master, secret, response_url, args.requests), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
