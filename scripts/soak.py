"""Soak: many visitors at once for minutes, through nginx, against production mode (a benchmark, not a test).

Starts production mode on free ports (PostgreSQL, Redis, two Rasa servers, the
action server, nginx), unless --url names one already running. Each simulated
visitor keeps one conversation, asks questions on different topics in a random
order with a pause between them, and checks every answer is the answer to its
own question (as the question is answered when asked alone). Prints errors,
lost turns (no answer, or "try again"), crossed turns (another question's
answer), p50/p95 answer times, and the servers' memory at the start and end.

    .venv/bin/python scripts/soak.py [--users 32] [--minutes 5] [--pause 1.0]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from bench import percentile, resident_mb

from bot import PROJECT_DIR
from bot.channels.never_silent import TRY_AGAIN
from bot.production import ProductionStack

# Written for the soak; each on a topic of its own, so a crossed answer shows.
QUESTIONS = (
    "how many sessions will I need",
    "is the procedure painful",
    "how long does healing take afterwards",
    "what causes these brown spots",
    "is the laser safe for the skin",
    "how does the laser remove pigment",
    "do I need a consultation first",
    "what does the skin look like after the procedure",
)


def answer(url: str, sender: str, question: str, session: requests.Session) -> str:
    response = session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": question}, timeout=60)
    response.raise_for_status()
    return " ".join(" ".join(reply.get("text", "") for reply in response.json()).split())


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)

    def add(self, outcome: str, seconds: float) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            if outcome == "right":
                self.seconds.append(seconds)


def visitor(url: str, expected: dict[str, str], until: float, pause: float, tally: Tally, seed: int) -> None:
    chance = random.Random(seed)
    sender = f"soak-{uuid.uuid4().hex[:12]}"
    session = requests.Session()
    by_answer = {text: question for question, text in expected.items()}
    while time.monotonic() < until:
        question = chance.choice(QUESTIONS)
        started = time.perf_counter()
        try:
            said = answer(url, sender, question, session)
        except requests.RequestException:
            tally.add("error", 0)
        else:
            if said == expected[question]:
                outcome = "right"
            elif not said or said == TRY_AGAIN:
                outcome = "lost"
            elif said in by_answer:
                outcome = "crossed"
            else:
                outcome = "other answer"
            tally.add(outcome, time.perf_counter() - started)
        time.sleep(chance.uniform(0.5, 1.5) * pause)


def stack_memory_mb(stack: ProductionStack) -> dict[str, float]:
    memory = {name: resident_mb(stack.pid(name)) for name in ("rasa", "rasa-2", "actions", "redis", "nginx")}
    postmaster = stack.postgres.data / "postmaster.pid"
    memory["postgres"] = resident_mb(int(postmaster.read_text().split()[0]))
    return memory


@contextlib.contextmanager
def production(url: str | None) -> Iterator[tuple[str, ProductionStack | None]]:
    if url:
        yield url.rstrip("/"), None
        return
    stack = ProductionStack.on_free_ports(
        PROJECT_DIR / "results" / "soak",
        # The flood guard (20 messages a minute per visitor) is not what the soak measures.
        env={"MAX_MESSAGES_PER_MINUTE": "100000"},
    )
    with stack:
        yield stack.public_url, stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--pause", type=float, default=1.0, help="mean seconds a visitor waits between questions")
    parser.add_argument("--url", help="a production mode already running (nginx), instead of starting one")
    args = parser.parse_args()

    with production(args.url) as (url, stack):
        alone = requests.Session()
        expected = {question: answer(url, f"soak-alone-{uuid.uuid4().hex}", question, alone) for question in QUESTIONS}
        memory_start = stack_memory_mb(stack) if stack else {}
        tally = Tally()
        until = time.monotonic() + args.minutes * 60
        visitors = [
            threading.Thread(target=visitor, args=(url, expected, until, args.pause, tally, seed))
            for seed in range(args.users)
        ]
        print(f"{args.users} visitors for {args.minutes:g} min through {url}…", flush=True)
        for thread in visitors:
            thread.start()
        for thread in visitors:
            thread.join()
        memory_end = stack_memory_mb(stack) if stack else {}

    turns = sum(tally.outcomes.values())
    print(f"\nturns: {turns}  ({turns / (args.minutes * 60):.1f} per second)")
    for outcome in ("right", "lost", "crossed", "other answer", "error"):
        print(f"  {outcome:<13} {tally.outcomes[outcome]}")
    if tally.seconds:
        print(
            f"answer time: p50 {percentile(tally.seconds, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(tally.seconds, 0.95) * 1000:.0f} ms"
        )
    for name in memory_start:
        print(f"memory {name:<9} start {memory_start[name]:7.0f} MB   end {memory_end[name]:7.0f} MB")


if __name__ == "__main__":
    main()
