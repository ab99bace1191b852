"""How fast and in how much memory `clearance rules validate` checks a large rule file.

Writes a seeded file of N rules (default 50,000, about 6 MB) that select models, places and
customers of the default pack, initialises a fresh SQLite database, then runs
`clearance rules validate FILE` as its own process and takes its wall time and peak resident
memory (from `wait4`). Beside it, PyYAML's own time to load the same file (pure-Python SafeLoader
and, when PyYAML has libyaml, CSafeLoader), which is the floor any YAML checker stands on.

    python bench/validate.py            # 50,000 rules; goals: <= 5 s and <= 300 MB
    python bench/validate.py --quick    # 5,000 rules
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import python_reference_s

GOAL_S, GOAL_MB = 5.0, 300.0
COUNTRIES = ["DE", "FR", "IT", "ES", "NL", "BR", "JP", "SG", "IN", "CA", "AU", "MX", "ZA", "KR"]
VENDORS = ["anthropic", "openai", "google", "meta"]
EFFECTS = ["allow", "deny", "review", "review"]


def rule_text(i: int, rng: random.Random) -> str:
    """Return one rule, one line in flow style (about 120 bytes)."""
    effect = rng.choice(EFFECTS)
    places = ", ".join(rng.sample(COUNTRIES, rng.randint(1, 3)))
    return (
        f"  - {{id: b{i:05d}, effect: {effect}, title: Rule {i}, "
        f"models: {{vendors: [{rng.choice(VENDORS)}]}}, places: {{in: [{places}]}}, "
        f"citation: C{i}, url: 'https://e.org/{i}'}}\n"
    )


def write_file(path: Path, count: int) -> None:
    """Write the seeded rule file."""
    rng = random.Random(15)
    with path.open("w", encoding="utf-8") as out:
        out.write("version: 1\nrules:\n")
        for i in range(count):
            out.write(rule_text(i, rng))


def run_measured(
    argv: list[str], env: dict[str, str], folder: Path
) -> tuple[float, float, float, int, str]:
    """Run a command; return its wall and CPU seconds, peak RSS in MB, exit code, stderr tail."""
    # Output goes to a file: its warnings can fill a pipe that nobody reads until it exits.
    with (folder / "stderr.txt").open("w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        tail = err.read().decode(errors="replace")[-400:]
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, proc.returncode, tail


def yaml_load_s(path: Path, loader_name: str) -> tuple[float, float] | None:
    """Time PyYAML loading the file with one of its loaders: wall and CPU seconds.

    None when PyYAML was built without that loader.
    """
    import yaml

    loader = getattr(yaml, loader_name, None)
    if loader is None:
        return None
    text = path.read_text(encoding="utf-8")
    start, cpu = time.perf_counter(), time.process_time()
    yaml.load(text, Loader=loader)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    """Run the benchmark and print the goals and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="5,000 rules")
    args = parser.parse_args()
    count = 5_000 if args.quick else args.rules
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "rules.yaml"
        write_file(path, count)
        size_mb = path.stat().st_size / 1e6
        env = {**os.environ, "CLEARANCE_SEED_SOURCES": "false", "CLEARANCE_CACHE_DIR": "off"}
        db = ["--db", f"sqlite:///{folder / 'bench.db'}"]
        subprocess.run(
            [sys.executable, "-m", "bot", *db, "init"], env=env, check=True, capture_output=True
        )
        wall, cpu, peak_mb, code, err = run_measured(
            [sys.executable, "-m", "bot", *db, "rules", "validate", str(path)], env, folder
        )
        pure = yaml_load_s(path, "SafeLoader")
        assert pure is not None  # pure Python: always there
        libyaml = yaml_load_s(path, "CSafeLoader")
    print(
        f"{count} rules, {size_mb:.1f} MB: validate {wall:.2f} s ({cpu:.2f} CPU s), "
        f"peak {peak_mb:.0f} MB, exit {code}"
    )
    print(
        f"PyYAML load: SafeLoader {pure[0]:.2f} s ({pure[1]:.2f} CPU s)"
        + (f", CSafeLoader {libyaml[0]:.2f} s ({libyaml[1]:.2f} CPU s)" if libyaml else "")
    )
    if code != 0:
        print(err, file=sys.stderr)
    goals = {"validate_s": wall <= GOAL_S, "peak_mb": peak_mb <= GOAL_MB, "exit_0": code == 0}
    for name, ok in goals.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    print(
        json.dumps(
            {
                "rules": count,
                "file_mb": round(size_mb, 2),
                "validate_s": round(wall, 3),
                "validate_cpu_s": round(cpu, 3),
                "peak_rss_mb": round(peak_mb, 1),
                "exit_code": code,
                "pyyaml_safe_load_s": round(pure[0], 3) if pure else None,
                "pyyaml_safe_load_cpu_s": round(pure[1], 3) if pure else None,
                "pyyaml_csafe_load_s": round(libyaml[0], 3) if libyaml else None,
                "pyyaml_csafe_load_cpu_s": round(libyaml[1], 3) if libyaml else None,
                "python_reference_s": python_reference_s(),
                "goals": {"validate_s": GOAL_S, "peak_rss_mb": GOAL_MB},
            }
        )
    )
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
