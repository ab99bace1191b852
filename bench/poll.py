"""Policy polling benchmark: one poll round over 500 local sources, and a 1,000-change digest.

Run from the project root:

    python bench/poll.py             # 500 sources, 1,000-change digest
    python bench/poll.py --quick     # 100 sources, 200-change digest (< 30 s)
    python bench/poll.py --profile   # plus a sampled profile of the measured round

What it does, all on 127.0.0.1 and in a fresh temporary directory:

- A page server (stdlib `ThreadingHTTPServer`) in its own process, so it does not compete with
  the poller for the GIL. It serves `/s/<i>`: ~40 KB HTML pages (scripts, styles, navigation, a
  `<main>` with headings, paragraphs with inline markup, a country table, a footer). Even
  sources are *unchanged*: the same page every round, answered with 304 when the request carries
  the ETag given before. Odd sources are *changed*: every round one paragraph and one table row
  differ (and the "Last updated" line, which the sources' ignore pattern hides), with a new ETag.
  The round is set through `/_round/<n>`, which also returns the server's counters.
- A fresh SQLite file: `bot.services.asking.initialize(engine, seed_sources=False)` (the default rule
  pack; the shipped sources, which are real internet addresses, are never added), then N
  `webpage` sources via `storage.policies.add_source`, each pointing at the page server.
- A baseline round `Jobs.poll(now=T0, ids=all, force=True)` (first fetches: snapshots, no
  changes), then the measured round at `now=T0 + 6h`: claims, 16 fetch threads (the real
  `bot.services.fetching.fetch`, wrapped only to count statuses), snapshots and changes recorded. Reported:
  wall time, requests/s, 304s, changes recorded (returned and in the database), CPU seconds of
  the poller and of the page server, and peak RSS (`resource.getrusage`, this process).
- With CLEARANCE_DATABASE_URL pointing at PostgreSQL, the same two rounds again in a fresh schema
  of that database (dropped afterwards).
- The digest: 1,000 synthetic but realistic changes (text diffs of 1-40 lines up to the 6,000
  character cap, feed/Federal Register items, high severity with reasons, flipped usages,
  country-list changes with an "Update group" button) spread over the sources with a skewed
  weight, stored as `PolicyChange` rows and read back through `Jobs.views`. Timed: `build_digest`
  + `render_digest` (3 runs; the goal uses the median). Every message is checked against Block
  Kit limits (<= 50 blocks, block JSON < 13,000 chars, sections <= 3,000, header <= 150,
  fallback text <= 4,000), and every change must be listed exactly once and every diff shown
  exactly once. Also timed, for information: `Jobs.queue_digests(force=True)` for one channel
  subscribed to everything (query, views, build, render, outbox rows), end to end.

Goals, printed as PASS/FAIL: the measured round of 500 sources in under 20 s (on 2 cores: with
more CPUs the process is pinned to 2 with `sched_setaffinity`; `--quick` scales the budget to
N/500 of it), with every 304, change and no error as expected; a 1,000-change digest built and
rendered in under 1 s (scaled likewise), every message within limits. The last line of output is
ONE line of JSON with every figure. The run is bounded: `--timeout` (default 300 s) aborts it.
No traffic leaves 127.0.0.1 (proxy variables are cleared; every source URL is checked).
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
GOAL_POLL_S = 20.0  # for 500 sources
GOAL_DIGEST_S = 1.0  # for 1,000 changes
FULL_SOURCES, FULL_CHANGES = 500, 1000
QUICK_SOURCES, QUICK_CHANGES = 100, 200
MAX_BLOCKS, MAX_BLOCK_CHARS, MAX_SECTION, MAX_HEADER, MAX_FALLBACK = 50, 13_000, 3000, 150, 4000
HOST = "127.0.0.1"

_WORDS = (
    "export control regulation entity list license exception semiconductor advanced "
    "computing item destination end user military intelligence foreign direct product rule "
    "general prohibition authorization notice amendment interim final effective date "
    "comment period applicant review policy presumption denial case by case model weights "
    "training threshold operations integrated circuit data center validated allocation "
    "tier country group section paragraph requirement compliance guidance frequently asked "
    "question the of and to in for with by under on as may shall not be is are"
)
_COUNTRIES = (
    "Germany France Japan India Brazil Canada Mexico Spain Italy Poland Sweden Norway "
    "Finland Denmark Netherlands Belgium Austria Switzerland Ireland Portugal Greece "
    "Turkey Israel Egypt Kenya Nigeria Chile Peru Colombia Argentina Australia Singapore "
    "Malaysia Thailand Vietnam Indonesia Philippines Pakistan Bangladesh Kazakhstan "
    "Ukraine Romania Hungary Czechia Slovakia Bulgaria Serbia Croatia Estonia Latvia "
    "Lithuania Iceland Morocco Tunisia Jordan Qatar Oman Kuwait Bahrain"
)
WORDS = _WORDS.split()
COUNTRIES = _COUNTRIES.split()


class BenchError(RuntimeError):
    """The benchmark could not run (not a failed goal)."""


# ------------------------------------------------------------------ the page server (child)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _page_parts(i: int) -> dict[str, Any]:
    """Return the fixed parts of source i's page (deterministic)."""
    rng = random.Random(i)
    script = "".join(f"window.cfg{k}={{a:{k},b:'{_sentence(rng, 6)}'}};\n" for k in range(120))
    style = "".join(f".c{k}{{margin:{k}px;color:#{k:06x}}}\n" for k in range(80))
    nav = "".join(f'<li><a href="/n/{k}">{_sentence(rng, 2)}</a></li>' for k in range(40))
    paragraphs = []
    for k in range(60):
        a, b = _sentence(rng, 18), _sentence(rng, 22)
        paragraphs.append(
            f'<p class="c{k % 80}">{a} <a href="/doc/{i}/{k}">{_sentence(rng, 3)}'
            f"</a> <b>{_sentence(rng, 2)}</b> {b}</p>"
        )
    rows = [
        (
            c,
            rng.choice(("Tier 1", "Tier 2", "License required", "Presumption of denial")),
            f"{rng.randint(1, 12):02d}/2025",
        )
        for c in COUNTRIES[:50]
    ]
    head = (
        f"<!doctype html><html><head><title>Policy notice {i}</title><style>{style}</style>"
        f'<script>{script}</script></head><body><header><div class="logo">Agency</div>'
        f"<nav><ul>{nav}</ul></nav></header><main><article><h1>Policy notice {i}</h1>"
    )
    tail = (
        '</article></main><aside>Related: <a href="/r">other notices</a></aside>'
        f"<footer><p>Agency footer {i}</p><ul>{nav[:1500]}</ul></footer></body></html>"
    )
    return {"head": head, "paragraphs": paragraphs, "rows": rows, "tail": tail}


def render_page(parts: dict[str, Any], i: int, version: int) -> bytes:
    """Return source i's page at a version (version 0 for unchanged sources)."""
    paragraphs = list(parts["paragraphs"])
    rows = list(parts["rows"])
    if version:
        k = (version * 7) % len(paragraphs)
        amended = _sentence(random.Random(version), 20)
        paragraphs[k] = f"<p>Amendment {version} to notice {i}: {amended}</p>"
        rows.append(
            (COUNTRIES[50 + version % 10], "License required", f"{version % 12 + 1:02d}/2026")
        )
    sections = []
    for s in range(6):
        body = "".join(paragraphs[s * 10 : (s + 1) * 10])
        sections.append(f"<section><h2>Section {s + 1}</h2><div>{body}</div></section>")
    table = "".join(f"<tr><td>{c}</td><td>{st}</td><td>{d}</td></tr>" for c, st, d in rows)
    updated = f"<p>Last updated: 2026-11-{version % 28 + 1:02d} 06:{version % 60:02d}</p>"
    return (
        parts["head"]
        + "".join(sections)
        + f"<h2>Countries</h2><table><tr><th>Country</th><th>Status</th><th>Since</th></tr>"
        f"{table}</table>{updated}" + parts["tail"]
    ).encode()


def serve_pages(n: int, conn: Any, latency_s: float) -> None:
    """The page server process: serve n sources on 127.0.0.1 until told to stop."""
    parts = [_page_parts(i) for i in range(n)]
    unchanged = {i: render_page(parts[i], i, 0) for i in range(0, n, 2)}
    state = {"round": 0}
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self,
            status: int,
            body: bytes = b"",
            etag: str | None = None,
            ctype: str = "text/html; charset=utf-8",
        ) -> None:
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def do_GET(self) -> None:
            m = re.fullmatch(r"/s/(\d+)", self.path)
            if m and int(m.group(1)) < n:
                if latency_s:
                    time.sleep(latency_s)
                i = int(m.group(1))
                version = 0 if i % 2 == 0 else state["round"]
                etag = f'"{"u" if i % 2 == 0 else "c"}-{i}-{version}"'
                with lock:
                    counts["requests"] += 1
                    counts["conditional"] += self.headers.get("If-None-Match") is not None
                if self.headers.get("If-None-Match") == etag:
                    with lock:
                        counts["304"] += 1
                    self._send(304, etag=etag)
                    return
                body = unchanged[i] if i % 2 == 0 else render_page(parts[i], i, version)
                with lock:
                    counts["200"] += 1
                    counts["bytes"] += len(body)
                self._send(200, body, etag)
                return
            m = re.fullmatch(r"/_round/(\d+)", self.path)
            if m:
                usage = resource.getrusage(resource.RUSAGE_SELF)
                with lock:
                    out = {**counts, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}
                    counts.clear()
                    state["round"] = int(m.group(1))
                self._send(200, json.dumps(out).encode(), ctype="application/json")
                return
            self._send(404, b"not found")

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server((HOST, 0), Handler)
    conn.send(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.recv()  # any message (or the parent going away) stops the server
    server.shutdown()


@contextmanager
def page_server(n: int, latency_s: float) -> Iterator[tuple[int, Any]]:
    """Start the page server process; yield (port, process)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve_pages, args=(n, child, latency_s), daemon=True)
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while not parent.poll(0.1):
            if not proc.is_alive() or time.monotonic() > deadline:
                raise BenchError("the page server did not start")
        yield int(parent.recv()), proc
    finally:
        with suppress(OSError):
            parent.send("stop")
        proc.join(5)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)


def server_round(port: int, n: int) -> dict[str, Any]:
    """Start round n on the page server; return its counters for the round before."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/_round/{n}", timeout=10) as resp:
        return dict(json.loads(resp.read()))


# ------------------------------------------------------------------ the profiler


class Sampler:
    """A stack sampler: the main thread's wall time, and the fetch threads' busy time."""

    IDLE = frozenset(
        {
            ("threading.py", "wait"),
            ("thread.py", "_worker"),
            ("queue.py", "get"),
            ("selectors.py", "select"),
        }
    )

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples = 0
        self.main: collections.Counter[str] = collections.Counter()
        self.main_self: collections.Counter[str] = collections.Counter()
        self.pool: collections.Counter[str] = collections.Counter()
        self.pool_self: collections.Counter[str] = collections.Counter()
        self.pool_busy = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me, main = threading.get_ident(), threading.main_thread().ident
        while not self._stop.wait(self.interval):
            self.samples += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                top = (os.path.basename(frame.f_code.co_filename), frame.f_code.co_name)
                if ident != main and top in self.IDLE:
                    continue
                inclusive, own = (
                    (self.main, self.main_self) if ident == main else (self.pool, self.pool_self)
                )
                if ident != main:
                    self.pool_busy += 1
                seen: set[str] = set()
                f: Any = frame
                while f is not None:
                    key = f"{_short(f.f_code.co_filename)}:{f.f_code.co_name}"
                    if key not in seen:
                        seen.add(key)
                        inclusive[key] += 1
                    f = f.f_back
                own[f"{_short(frame.f_code.co_filename)}:{frame.f_code.co_name}"] += 1

    def report(self, top: int = 25) -> dict[str, Any]:
        n, busy = max(self.samples, 1), max(self.pool_busy, 1)
        return {
            "samples": self.samples,
            "fetch_thread_busy_samples": self.pool_busy,
            "main_wall_pct": {k: round(100 * v / n, 1) for k, v in self.main.most_common(top)},
            "main_self_pct": {k: round(100 * v / n, 1) for k, v in self.main_self.most_common(15)},
            "fetch_busy_pct": {k: round(100 * v / busy, 1) for k, v in self.pool.most_common(15)},
        }


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def print_profile(profile: dict[str, Any]) -> None:
    print(f"Profile of the measured round ({profile['samples']} samples of 2 ms):")
    for title, key in (
        ("main thread, % of wall time (inclusive)", "main_wall_pct"),
        ("main thread, % of wall time (self)", "main_self_pct"),
        ("fetch threads, % of busy samples (inclusive)", "fetch_busy_pct"),
    ):
        print(f"  {title}:")
        for name, pct in profile[key].items():
            print(f"    {pct:5.1f}%  {name}")


# ------------------------------------------------------------------ the poll rounds


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CountingFetcher:
    """`bot.services.fetching.fetch`, counting the outcomes (the only thing added to the real fetcher)."""

    def __init__(self, port: int) -> None:
        from bot.services.fetching import fetch

        self._fetch = fetch
        self.prefix = f"http://{HOST}:{port}/"
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, url: str, **kwargs: Any) -> Any:
        if not url.startswith(self.prefix):  # never let a request leave 127.0.0.1
            raise BenchError(f"refusing to fetch {url}")
        result = self._fetch(url, **kwargs)
        key = "error" if result.error else str(result.status)
        with self.lock:
            self.counts[key] += 1
        return result


def setup_database(url: str, n: int, port: int) -> tuple[Any, list[int], list[int]]:
    """Initialise a fresh database, add n webpage sources and 5 (unpolled) country lists."""
    from bot.services.asking import initialize
    from storage.db import create_db_engine, session_scope
    from storage.policies import add_source
    from storage.rules import load_table

    engine = create_db_engine(url)
    initialize(engine, seed_sources=False, now=T0)
    ids, lists = [], []
    with session_scope(engine) as session:
        groups = sorted(load_table(session=session).groups)
        for i in range(n):
            s = add_source(
                session=session,
                name=f"Policy notice {i:03d} ({WORDS[i % 40]})",
                kind="webpage",
                url=f"http://{HOST}:{port}/s/{i}",
                now=T0,
                interval_s=6 * 3600,
                tags=[f"t{i % 7}"],
                ignore=[r"^Last updated"],
            )
            ids.append(s.id)
        for k in range(5 if groups else 0):
            s = add_source(
                session=session,
                name=f"Country list {k}",
                kind="webpage",
                url=f"http://{HOST}:{port}/s/{k}",
                now=T0,
                interval_s=6 * 3600,
                country_list_group=groups[k % len(groups)],
                known_groups=set(groups),
            )
            lists.append(s.id)
        session.commit()
    return engine, ids, lists


def commit_probe(engine: Any, tag: str, n: int = 30) -> dict[str, float]:
    """Time n small commits (one `app_state` row each) on the engine: what one commit costs on
    this disk right now (SQLite commits in WAL mode wait for an fsync)."""
    from storage.db import session_scope
    from storage.policies import set_state

    times = []
    for k in range(n):
        started = time.perf_counter()
        with session_scope(engine) as session:
            set_state(session=session, key=f"bench:probe:{tag}", value=str(k))
            session.commit()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median": round(statistics.median(times), 2),
        "p90": round(times[int(0.9 * (n - 1))], 2),
    }


def count_commits(engine: Any) -> Callable[[], int]:
    """Count the engine's commits from now on; the returned function stops and returns it."""
    from sqlalchemy import event

    count = [0]

    def on_commit(_conn: Any) -> None:
        count[0] += 1

    event.listen(engine, "commit", on_commit)

    def stop() -> int:
        event.remove(engine, "commit", on_commit)
        return count[0]

    return stop


def poll_rounds(
    engine: Any, ids: list[int], port: int, *, profile: bool, label: str
) -> tuple[Any, dict[str, Any]]:
    """Run the baseline and the measured round; return the Jobs and the figures."""
    from sqlmodel import func, select

    from bot.services.jobs import Jobs
    from bot.settings import Settings
    from handlers.render import digests
    from storage.db import session_scope
    from storage.tables.tracking import PolicyChange

    settings = Settings(
        CLEARANCE_FETCH_TIMEOUT_S=10.0,
        CLEARANCE_ADMINS="",
        CLEARANCE_FETCH_ALLOWED_ADDRESSES=HOST,  # the page server on 127.0.0.1
    )
    fetcher = CountingFetcher(port)
    jobs = Jobs(engine, settings, fetcher=fetcher, renderer=digests)
    n = len(ids)
    server_round(port, 1)
    started = time.perf_counter()
    baseline = jobs.poll(now=T0, ids=ids, force=True)
    baseline_s = time.perf_counter() - started
    baseline_counts = dict(fetcher.counts)
    fetcher.counts.clear()
    server_baseline = server_round(port, 2)
    print(
        f"  [{label}] baseline round: {n} sources in {baseline_s:.2f} s "
        f"({baseline_counts}), {len(baseline)} changes",
        flush=True,
    )

    probe_before = commit_probe(engine, "before")
    commits = count_commits(engine)
    sampler = Sampler() if profile else None
    cpu0 = cpu_s()
    started = time.perf_counter()
    if sampler:
        with sampler:
            changes = jobs.poll(now=T1, ids=ids, force=True)
    else:
        changes = jobs.poll(now=T1, ids=ids, force=True)
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu0
    n_commits = commits()
    probe_after = commit_probe(engine, "after")
    server = server_round(port, 3)
    with session_scope(engine) as session:
        in_db = session.exec(
            select(func.count()).select_from(PolicyChange).where(PolicyChange.detected_at == T1)
        ).one()
    counts = dict(fetcher.counts)
    requests = sum(counts.values())
    result = {
        "sources": n,
        "baseline_s": round(baseline_s, 3),
        "baseline_changes": len(baseline),
        "baseline_200": baseline_counts.get("200", 0),
        "wall_s": round(wall, 3),
        "requests": requests,
        "rps": round(requests / wall, 1) if wall else 0.0,
        "not_modified": counts.get("304", 0),
        "ok_200": counts.get("200", 0),
        "errors": requests - counts.get("304", 0) - counts.get("200", 0),
        "changes": len(changes),
        "changes_in_db": int(in_db),
        "expected_304": n // 2,
        "expected_changes": n - n // 2,
        "commits": n_commits,
        "commit_ms_before": probe_before,
        "commit_ms_after": probe_after,
        "poller_cpu_s": round(cpu, 2),
        "poller_cores_busy": round(cpu / wall, 2) if wall else 0,
        "server_cpu_s": round(server.get("cpu_s", 0) - server_baseline.get("cpu_s", 0), 2),
        "server_requests": server.get("requests", 0),
        "server_304": server.get("304", 0),
        "server_conditional": server.get("conditional", 0),
        "page_bytes_avg": round(
            server_baseline.get("bytes", 0) / max(server_baseline.get("200", 1), 1)
        ),
        "peak_rss_mb": peak_rss_mb(),
    }
    if sampler:
        result["profile"] = sampler.report()
    print(
        f"  [{label}] measured round: {n} sources in {wall:.2f} s, {result['rps']} req/s, "
        f"{result['not_modified']} x 304, {result['ok_200']} x 200, {result['errors']} errors, "
        f"{len(changes)} changes ({in_db} in the database), {n_commits} commits, poller CPU "
        f"{cpu:.1f} s, peak RSS {result['peak_rss_mb']} MB; one commit takes "
        f"{probe_before['median']} ms before, {probe_after['median']} ms after (median)",
        flush=True,
    )
    return jobs, result


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """Yield a URL to a fresh schema in the PostgreSQL database at `base` (dropped after)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import create_db_engine, normalize_url

    base = normalize_url(base)
    schema = f"bench_poll_{uuid.uuid4().hex[:10]}"
    admin = create_db_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ------------------------------------------------------------------ the digest


def _diff(rng: random.Random, added: int, removed: int) -> str:
    lines = []
    for _ in range(max(added, removed)):
        lines.append(" " + _sentence(rng, rng.randint(6, 14)))
        if removed > 0:
            lines.append("-" + _sentence(rng, rng.randint(8, 30)))
            removed -= 1
        if added > 0:
            lines.append("+" + _sentence(rng, rng.randint(8, 30)))
            added -= 1
    text = "\n".join(["@@ -1,4 +1,4 @@", *lines])
    return (
        text if len(text) <= 6000 else text[:5998] + "\n…"
    )  # as bot.domain.tracking.sources caps a diff


def synthetic_changes(
    n: int, source_ids: list[int], list_ids: list[int], urls: dict[int, str]
) -> list[dict[str, Any]]:
    """Return n PolicyChange field sets: a realistic mix, seeded."""
    rng = random.Random(1000 + n)
    weights = [1 / (r + 1) ** 0.8 for r in range(len(source_ids))]
    out = []
    for k in range(n):
        reasons: list[str] = []
        severity = "normal"
        items: list[dict[str, str]] = []
        added: list[str] = []
        removed: list[str] = []
        diff = ""
        if list_ids and rng.random() < 0.03:
            sid = rng.choice(list_ids)
            codes = ["DE", "FR", "JP", "IN", "BR", "CA", "MX", "PL", "SE", "NO"]
            added = sorted(rng.sample(codes, rng.randint(0, 3)))
            removed = sorted(set(rng.sample(codes, rng.randint(1, 2))) - set(added))
            summary = "; ".join(
                p
                for p in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                )
                if p
            )
            diff = _diff(rng, len(added), len(removed))
        else:
            sid = rng.choices(source_ids, weights)[0]
            if rng.random() < 0.2:
                for j in range(rng.randint(1, 12)):
                    items.append(
                        {
                            "id": f"2026-{k:05d}-{j}",
                            "title": _sentence(rng, 12),
                            "link": f"https://www.federalregister.gov/d/2026-{k:05d}-{j}",
                            "date": "2026-11-02",
                            "summary": _sentence(rng, 40),
                        }
                    )
                titles = "; ".join(i["title"] for i in items[:3]) + (
                    "; …" if len(items) > 3 else ""
                )
                summary = f"{len(items)} new document{'s' if len(items) > 1 else ''}: {titles}"
            else:
                a = rng.choice((1, 1, 2, 3, 4, 6, 10, 25, 40))
                r = rng.choice((0, 0, 1, 1, 2, 5, 15))
                diff = _diff(rng, a, r)
                summary = f"text changed: {a} lines added, {r} removed"
        if rng.random() < 0.1:
            severity = "high"
            reasons = ["mentions 'entity list'", "names Iran, a customer country"][
                : rng.randint(1, 2)
            ]
        flips = (
            [
                f"Customer {rng.randint(1, 999)} GmbH (DE) · model-{j} · api: allowed → denied"
                for j in range(rng.randint(1, 20))
            ]
            if rng.random() < 0.04
            else []
        )
        out.append(
            {
                "dedupe_key": f"bench:{k}",
                "source_id": sid,
                "summary": summary,
                "diff": diff,
                "link": items[0]["link"] if len(items) == 1 else urls.get(sid),
                "severity": severity,
                "details": {
                    "summary": summary,
                    "diff": diff,
                    "items": items,
                    "added": added,
                    "removed": removed,
                    "reasons": reasons,
                    "flip_texts": flips,
                },
            }
        )
    return out


def check_payloads(
    payloads: list[dict[str, Any]], view_ids: set[int], with_diff: set[int]
) -> dict[str, Any]:
    """Check Block Kit limits; count how often each change is listed and each diff shown."""
    from handlers.render.changes import SEVERITY_MARK

    marks = tuple(f"{m} " for m in SEVERITY_MARK.values())
    problems: list[str] = []
    listed = 0
    diffs: collections.Counter[int] = collections.Counter()
    max_blocks = max_chars = 0
    for p, payload in enumerate(payloads):
        blocks = payload.get("blocks") or []
        size = len(json.dumps(blocks))
        max_blocks, max_chars = max(max_blocks, len(blocks)), max(max_chars, size)
        if len(blocks) > MAX_BLOCKS:
            problems.append(f"message {p}: {len(blocks)} blocks")
        if size >= MAX_BLOCK_CHARS:
            problems.append(f"message {p}: {size} chars of blocks")
        if len(payload.get("text") or "") > MAX_FALLBACK:
            problems.append(f"message {p}: fallback text {len(payload['text'])} chars")
        for b in blocks:
            text = (b.get("text") or {}).get("text", "")
            if b["type"] == "header" and len(text) > MAX_HEADER:
                problems.append(f"message {p}: header of {len(text)} chars")
            if b["type"] == "section":
                if len(text) > MAX_SECTION:
                    problems.append(f"message {p}: section of {len(text)} chars")
                listed += text.startswith(marks)
                m = re.search(r"diff of change #(\d+):", text)
                if m:
                    diffs[int(m.group(1))] += 1
    # The thread carries a capped number of diff messages; the rest must be announced.
    every_diff_once = (
        set(diffs) <= with_diff
        and all(v == 1 for v in diffs.values())
        and (set(diffs) == with_diff or "in `/clearance changes`" in json.dumps(payloads[0]))
    )
    return {
        "messages": len(payloads),
        "max_blocks": max_blocks,
        "max_block_chars": max_chars,
        "listed": listed,
        "changes": len(view_ids),
        "diffs_shown": sum(diffs.values()),
        "changes_with_diff": len(with_diff),
        "within_limits": not problems,
        "problems": problems[:10],
        "complete": listed == len(view_ids) and every_diff_once,
    }


def digest_bench(
    jobs: Any, n: int, source_ids: list[int], list_ids: list[int], port: int
) -> dict[str, Any]:
    """Store n changes, read them back as views, time build_digest + render_digest."""
    from sqlmodel import col, select

    from bot.domain.tracking.digest import build_digest
    from handlers.render.digests import render_digest
    from storage.db import session_scope
    from storage.policies import subscribe
    from storage.tables.tracking import Delivery, PolicyChange

    t_sub, t_changes, t_digest = (
        T1 + timedelta(minutes=1),
        T1 + timedelta(minutes=2),
        T1 + timedelta(minutes=3),
    )
    urls = {sid: f"http://{HOST}:{port}/s/{sid}" for sid in [*source_ids, *list_ids]}
    specs = synthetic_changes(n, source_ids, list_ids, urls)
    with session_scope(jobs.engine) as session:
        subscribe(
            session=session,
            channel="CBENCH",
            source_ids=[],
            tags=[],
            schedule="daily 09:00 UTC",
            user="UBENCH",
            now=t_sub,
        )
        for k, spec in enumerate(specs):
            session.add(PolicyChange(detected_at=t_changes + timedelta(seconds=k % 50), **spec))
        session.commit()
        rows = list(
            session.exec(
                select(PolicyChange)
                .where(col(PolicyChange.dedupe_key).startswith("bench:"))
                .order_by(col(PolicyChange.id))
            )
        )
    started = time.perf_counter()
    views = jobs.views(rows)
    views_s = time.perf_counter() - started
    runs = []
    payloads: list[dict[str, Any]] = []
    for _ in range(3):
        started = time.perf_counter()
        digest = build_digest(views, since=t_sub, now=t_digest)
        built = time.perf_counter()
        payloads = render_digest(digest)
        done = time.perf_counter()
        runs.append((built - started, done - built, done - started))
    median = statistics.median(r[2] for r in runs)
    check = check_payloads(payloads, {v.id for v in views}, {v.id for v in views if v.diff})

    started = time.perf_counter()
    queued = jobs.queue_digests(now=t_digest, channel="CBENCH", force=True)
    queue_s = time.perf_counter() - started
    with session_scope(jobs.engine) as session:
        deliveries = len(
            list(session.exec(select(Delivery.id).where(Delivery.channel == "CBENCH")))
        )
    result = {
        "changes": n,
        "sources": len({v.source for v in views}),
        "with_diff": sum(1 for v in views if v.diff),
        "high": sum(1 for v in views if v.severity == "high"),
        "with_button": sum(1 for v in views if v.group and (v.added or v.removed)),
        "views_s": round(views_s, 4),
        "build_s": round(statistics.median(r[0] for r in runs), 4),
        "render_s": round(statistics.median(r[1] for r in runs), 4),
        "total_s": round(median, 4),
        "runs_s": [round(r[2], 4) for r in runs],
        **check,
        "queue_digests_s": round(queue_s, 3),
        "queued": queued,
        "deliveries": deliveries,
    }
    print(
        f"  digest of {n} changes ({result['sources']} sources, {result['with_diff']} diffs): "
        f"build {result['build_s'] * 1000:.1f} ms + render {result['render_s'] * 1000:.1f} ms "
        f"(median of 3: {median * 1000:.1f} ms); {check['messages']} messages, max "
        f"{check['max_blocks']} blocks / {check['max_block_chars']} chars, within limits: "
        f"{check['within_limits']}, complete: {check['complete']}; Jobs.views "
        f"{views_s * 1000:.0f} ms; queue_digests end to end {queue_s:.2f} s "
        f"({deliveries} deliveries)",
        flush=True,
    )
    return result


# ------------------------------------------------------------------ orchestration


def goals(results: dict[str, Any], n: int, changes: int) -> dict[str, dict[str, Any]]:
    budget = GOAL_POLL_S * n / FULL_SOURCES
    digest_budget = GOAL_DIGEST_S * changes / FULL_CHANGES
    out: dict[str, dict[str, Any]] = {}
    for db in ("sqlite", "postgresql"):
        r = results.get(db)
        if not r:
            continue
        correct = (
            r["not_modified"] == r["expected_304"]
            and r["changes"] == r["expected_changes"]
            and r["changes_in_db"] == r["expected_changes"]
            and r["errors"] == 0
        )
        out[f"poll_{n}_sources_under_{budget:g}s_{db}"] = {
            "pass": r["wall_s"] < budget and correct,
            "wall_s": r["wall_s"],
            "budget_s": budget,
            "cpus": results["cpus"],
            "correct": correct,
        }
    d = results["digest"]
    out[f"digest_{changes}_changes_under_{digest_budget:g}s"] = {
        "pass": d["total_s"] < digest_budget and d["within_limits"] and d["complete"],
        "total_s": d["total_s"],
        "budget_s": digest_budget,
        "messages": d["messages"],
        "within_limits": d["within_limits"],
        "complete": d["complete"],
    }
    return out


def print_goals(result: dict[str, dict[str, Any]]) -> None:
    print("Goals:")
    for name, goal in result.items():
        detail = ", ".join(f"{k}={v}" for k, v in goal.items() if k != "pass")
        print(f"  {'PASS' if goal['pass'] else 'FAIL'}  {name}  ({detail})")


def isolate_network() -> None:
    """Keep every request on 127.0.0.1: no proxies, whatever the environment says."""
    for key in list(os.environ):
        if key.lower() in ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy"):
            del os.environ[key]
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = f"{HOST},localhost"
    os.environ["CLEARANCE_SEED_SOURCES"] = "false"


def pin_cpus(count: int) -> list[int]:
    """Pin this process (and the page server it starts) to `count` CPUs, when there are more."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    cpus = sorted(os.sched_getaffinity(0))
    if count and len(cpus) > count:
        cpus = cpus[:count]
        os.sched_setaffinity(0, cpus)
    return cpus


def watchdog(seconds: float, on_abort: Callable[[], None]) -> threading.Timer:
    def abort() -> None:
        print(
            f"error: the benchmark took more than {seconds:.0f} s; aborted",
            file=sys.stderr,
            flush=True,
        )
        on_abort()
        os._exit(3)

    timer = threading.Timer(seconds, abort)
    timer.daemon = True
    timer.start()
    return timer


def run(args: argparse.Namespace) -> int:
    isolate_network()
    cpus = pin_cpus(args.cpus)
    n = QUICK_SOURCES if args.quick else args.sources
    changes = QUICK_CHANGES if args.quick else args.changes
    started = time.monotonic()
    results: dict[str, Any] = {
        "bench": "poll",
        "quick": args.quick,
        "sources": n,
        "digest_changes": changes,
        "fetch_threads": 16,
        "latency_ms": args.latency_ms,
        "cpus": len(cpus) or os.cpu_count(),
        "python": sys.version.split()[0],
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"Poll benchmark: {n} sources (half 304, half changed), digest of {changes} changes, "
        f"{results['cpus']} CPUs",
        flush=True,
    )
    with (
        page_server(n, args.latency_ms / 1000) as (port, proc),
        tempfile.TemporaryDirectory(prefix="poll-bench-") as tmpdir,
    ):
        timer = watchdog(args.timeout, proc.kill)
        try:
            engine, ids, lists = setup_database(
                f"sqlite:///{Path(tmpdir) / 'clearance.db'}", n, port
            )
            print(f"  setup: SQLite, {len(ids)} sources added", flush=True)
            jobs, results["sqlite"] = poll_rounds(
                engine, ids, port, profile=args.profile, label="sqlite"
            )
            results["digest"] = digest_bench(jobs, changes, ids, lists, port)
            engine.dispose()
            base = os.environ.get("CLEARANCE_DATABASE_URL", "")
            results["postgresql"] = None
            if base.startswith(("postgres", "postgresql")):
                with postgres_schema(base) as url:
                    pg_engine, pg_ids, _ = setup_database(url, n, port)
                    print(
                        f"  setup: PostgreSQL (a fresh schema), {len(pg_ids)} sources added",
                        flush=True,
                    )
                    _, results["postgresql"] = poll_rounds(
                        pg_engine, pg_ids, port, profile=False, label="postgresql"
                    )
                    pg_engine.dispose()
        finally:
            timer.cancel()
    results["peak_rss_mb_end"] = peak_rss_mb()
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["wall_s"] = round(time.monotonic() - started, 1)
    results["goals"] = goals(results, n, changes)
    print_goals(results["goals"])
    if args.profile and "profile" in results["sqlite"]:
        print_profile(results["sqlite"]["profile"])
    print(json.dumps(results, separators=(",", ":"), ensure_ascii=False))
    return 0 if all(g["pass"] for g in results["goals"].values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SOURCES} sources, {QUICK_CHANGES}-change digest",
    )
    parser.add_argument("--sources", type=int, default=FULL_SOURCES)
    parser.add_argument("--changes", type=int, default=FULL_CHANGES)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay the page server adds to each page (simulated network)",
    )
    parser.add_argument(
        "--cpus", type=int, default=2, help="pin to this many CPUs when there are more (0: don't)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample stacks during the measured round and print the profile",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on the whole run (s)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
