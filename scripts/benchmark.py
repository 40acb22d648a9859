"""Latency and memory of the real assistant, measured over REST.

Starts the action server and the Rasa server on free ports (as `make run`
does), asks N held-out questions, and prints p50/p95 answer times side by side
for each kind of reply, then the servers' resident memory.

    .venv/bin/python scripts/benchmark.py [--questions 100]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from pathlib import Path

import requests
import yaml

from bot import PROJECT_DIR
from bot.servers import Stack, free_port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def resident_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(child) for child in children)
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    questions = yaml.safe_load((PROJECT_DIR / "tests" / "evaluation" / "questions.yml").read_text())
    random.Random(7).shuffle(questions)  # a fixed mix of every kind of question
    questions = (questions * (args.questions // len(questions) + 1))[: args.questions]

    with Stack(rasa_port=free_port(), action_port=free_port(), log_dir=PROJECT_DIR / "results" / "benchmark") as stack:
        session = requests.Session()
        url = f"{stack.url}/webhooks/rest/webhook"
        session.post(url, json={"sender": "warm-up", "message": "hello"}, timeout=60)  # first call loads lazily
        timings: dict[str, list[float]] = {}
        for question in questions:
            started = time.perf_counter()
            session.post(url, json={"sender": uuid.uuid4().hex, "message": question["text"]}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            timings.setdefault(question["kind"], []).append(elapsed)
            timings.setdefault("all", []).append(elapsed)
        memory = {
            name: resident_mb(process.pid)
            for name, process in zip(("action server", "rasa server"), stack.processes, strict=True)
        }

    print(f"{len(questions)} questions over REST, one new conversation each (ms)\n")
    print(f"{'kind':<18}{'n':>5}{'p50':>9}{'p95':>9}{'mean':>9}")
    for kind, values in sorted(timings.items(), key=lambda item: item[0] != "all"):
        print(
            f"{kind:<18}{len(values):>5}{percentile(values, 0.5):>9.0f}{percentile(values, 0.95):>9.0f}"
            f"{statistics.mean(values):>9.0f}"
        )
    print("\nresident memory after the run")
    for name, megabytes in memory.items():
        print(f"  {name:<15}{megabytes:>8.0f} MB")


if __name__ == "__main__":
    main()
