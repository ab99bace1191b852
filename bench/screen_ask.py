"""The in-process `ask` with screening, for `bench/screen.py`: a real SQLite database holding the
default rule pack and one list version of the given entries, `bot.services.asking.ask` end to end
(parse, decide, screen against the list's index, audit row committed)."""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.errors import QuestionError  # noqa: E402
from bot.domain.screening.entries import Entry, ParsedList  # noqa: E402
from bot.services.asking import KnowledgeCache, ask, initialize  # noqa: E402
from storage.db import create_db_engine  # noqa: E402
from storage.list_versions import store_version  # noqa: E402

PLACES = ("Germany", "Singapore", "Brazil", "Japan", "India")
MODELS = ("GPT-4o", "Claude Sonnet 4.5", "Llama 3.3 70B")


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_ask(
    entries: list[Entry], names: list[str], rnd: random.Random, questions: int
) -> dict[str, Any]:
    """Store the entries as one list version, then time `ask` on questions about the names."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        initialize(engine, seed_sources=False)
        t = time.perf_counter()
        store_version(
            engine,
            "bench-list",
            ParsedList("ofac_sdn", tuple(entries)),
            name="Bench list",
            now=datetime.now(UTC),
            origin="import",
        )
        stored_s = time.perf_counter() - t
        cache = KnowledgeCache(engine)
        texts = [
            f"can {rnd.choice(names)} in {rnd.choice(PLACES)} use {rnd.choice(MODELS)}?"
            for _ in range(questions)
        ]
        t = time.perf_counter()
        ask(engine, cache, texts[0], actor="bench")  # loads the knowledge and builds the index
        load_s = time.perf_counter() - t
        wall: list[float] = []
        cpu: list[float] = []
        verdicts: dict[str, int] = {}
        for text in texts:
            t, c = time.perf_counter(), time.thread_time()
            try:
                verdict = ask(engine, cache, text, actor="bench").verdict
            except QuestionError as exc:
                verdict = f"error:{exc.code}"
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - t)
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
        engine.dispose()
    return {
        "ask_list_entries": len(entries),
        "ask_store_version_s": round(stored_s, 1),
        "ask_first_s": round(load_s, 1),
        "ask_questions": len(texts),
        "ask_p50_ms": round(statistics.median(wall) * 1000, 3),
        "ask_p99_ms": round(_pct(wall, 0.99) * 1000, 3),
        "ask_cpu_p50_ms": round(statistics.median(cpu) * 1000, 3),
        "ask_cpu_p99_ms": round(_pct(cpu, 0.99) * 1000, 3),
        "ask_verdicts": dict(sorted(verdicts.items())),
    }
