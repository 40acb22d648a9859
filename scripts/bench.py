"""Throughput, latency, start-up time and memory of this assistant beside Rasa's stock starter bot.

Both bots run at once and take turns, so a busy machine slows both alike and the
ratios stay meaningful when the absolute figures do not. The stock bot is
`rasa init`'s starter project (in-memory tracker store, no action server),
trained once and kept in ~/.cache keyed by the Rasa version. Ours is started as
`make run` starts it: SQLite tracker store and the action server in the loop.

Each round sends, to every bot in turn: the five messages below as one
conversation per visitor, first from 1 visitor, then from 16 at once; then one
long conversation from a single visitor. The table goes into README.md.

    .venv/bin/python scripts/bench.py [--quick] [--rounds 2] [--production] [--variant MALLOC_ARENA_MAX=2 ...]...

``--production`` adds ours as `make prod` runs it (two Rasa servers sharing
the work behind nginx, PostgreSQL, Redis). Each ``--variant`` starts another
copy of ours with extra environment variables, so a lever is measured side by
side with and without it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import rasa

from bot import PROJECT_DIR
from bot.production import ProductionStack
from bot.servers import BIN, Stack, free_port, wait_until_up

# The same five messages for both bots: a greeting and four questions a visitor asks the clinic.
MESSAGES = (
    "hello",
    "how many sessions will I need?",
    "does it hurt?",
    "can I have it done while pregnant?",
    "how long does the redness last?",
)
CONCURRENT_USERS = 16
LONG_TURNS = 60
TURN_WINDOW = 10  # the long conversation compares its first and last TURN_WINDOW turns
STARTER_CACHE = Path.home() / ".cache" / "clinic-faq-bench" / f"starter-rasa-{rasa.__version__}"
README = PROJECT_DIR / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# Ours is sent one long conversation from one sender faster than any visitor types.
OURS_ENV = {"MAX_MESSAGES_PER_MINUTE": "100000", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0 ≤ fraction ≤ 1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def resident_mb(pid: int, kind: str = "VmRSS") -> float:
    """Resident memory of a process and all its children, in MB: all of it, or ``RssAnon`` (not files' pages)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith(f"{kind}:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(child) for child in children)
    return total / 1024


@dataclass
class Figures:
    """What one bot measured, over every round."""

    single: list[float] = field(default_factory=list)  # ms per message, 1 visitor
    single_rate: list[float] = field(default_factory=list)  # msgs/s of each round
    crowd: list[float] = field(default_factory=list)  # ms per message, 16 visitors at once
    crowd_rate: list[float] = field(default_factory=list)
    early_turns: list[float] = field(default_factory=list)  # long conversation, first turns
    late_turns: list[float] = field(default_factory=list)  # and last turns
    ready_s: float = 0.0
    rasa_mb: float = 0.0
    rasa_anonymous_mb: float = 0.0
    actions_mb: float = 0.0


@dataclass
class Bot:
    name: str
    url: str
    figures: Figures = field(default_factory=Figures)


async def _send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        response.raise_for_status()
        await response.read()
    return (time.perf_counter() - started) * 1000


async def conversations(url: str, users: int, messages: int) -> tuple[list[float], float]:
    """``users`` visitors at once, each going through MESSAGES as one conversation after another
    until ``messages`` are answered; returns each answer's time (ms) and the messages per second."""
    webhook = f"{url}/webhooks/rest/webhook"
    remaining = iter(range(messages))
    timings: list[float] = []

    async def visitor(session: aiohttp.ClientSession) -> None:
        sender, turn = uuid.uuid4().hex, 0
        for _ in remaining:
            timings.append(await _send(session, webhook, sender, MESSAGES[turn]))
            turn = (turn + 1) % len(MESSAGES)
            if turn == 0:
                sender = uuid.uuid4().hex
        return None

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(visitor(session) for _ in range(users)))
        elapsed = time.perf_counter() - started
    return timings, messages / elapsed


async def long_conversation(url: str, turns: int) -> list[float]:
    """One visitor's ``turns`` messages in one conversation; each turn's time (ms)."""
    webhook, sender = f"{url}/webhooks/rest/webhook", uuid.uuid4().hex
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        return [await _send(session, webhook, sender, MESSAGES[turn % len(MESSAGES)]) for turn in range(turns)]


def starter_project(progress: Callable[[str], None]) -> Path:
    """The trained `rasa init` starter project, built once per Rasa version (about 2 min)."""
    if list(STARTER_CACHE.glob("models/*.tar.gz")):
        return STARTER_CACHE
    progress(f"training the stock starter bot once (rasa init, Rasa {rasa.__version__}; kept in {STARTER_CACHE})")
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "starter"
        project.mkdir()
        subprocess.run(
            [BIN / "rasa", "init", "--no-prompt", "--init-dir", project],
            cwd=project,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        STARTER_CACHE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(project, STARTER_CACHE, dirs_exist_ok=True)
    return STARTER_CACHE


@contextmanager
def stock_bot(log_dir: Path) -> Iterator[Bot]:
    """Rasa's starter bot as `rasa init` makes it: its own endpoints.yml, so an in-memory tracker store."""
    project, port = STARTER_CACHE, free_port()
    command = [BIN / "rasa", "run", "--interface", "127.0.0.1", "--port", str(port), "--model", project / "models"]
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "stock.log", "ab") as log:
        started = time.perf_counter()
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
        process = subprocess.Popen(
            [str(part) for part in command], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            bot = Bot("stock starter bot", f"http://127.0.0.1:{port}")
            wait_until_up(f"{bot.url}/", process, timeout=300, ready="Hello from Rasa")
            bot.figures.ready_s = time.perf_counter() - started
            bot.figures.rasa_mb = 0.0
            yield bot
            bot.figures.rasa_mb = resident_mb(process.pid)
            bot.figures.rasa_anonymous_mb = resident_mb(process.pid, "RssAnon")
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def our_bot(name: str, env: dict[str, str], log_dir: Path) -> Iterator[Bot]:
    tracker_db = Path(tempfile.mkdtemp(prefix="bench-tracker-")) / "tracker.db"
    stack = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        env={**OURS_ENV, "TRACKER_DB": str(tracker_db), **env},
        log_dir=log_dir / name.replace(" ", "-"),
    )
    started = time.perf_counter()
    with stack:
        bot = Bot(name, stack.url)
        bot.figures.ready_s = time.perf_counter() - started
        yield bot
        bot.figures.rasa_mb = resident_mb(stack.pid("rasa"))
        bot.figures.rasa_anonymous_mb = resident_mb(stack.pid("rasa"), "RssAnon")
        bot.figures.actions_mb = resident_mb(stack.pid("actions"))
    shutil.rmtree(tracker_db.parent, ignore_errors=True)


@contextmanager
def our_production_mode(log_dir: Path) -> Iterator[Bot]:
    """Ours as `make prod` runs it: two Rasa servers behind nginx, PostgreSQL and Redis."""
    stack = ProductionStack.on_free_ports(log_dir / "production", env=OURS_ENV)
    started = time.perf_counter()
    with stack:
        bot = Bot("production mode", stack.public_url)
        bot.figures.ready_s = time.perf_counter() - started
        yield bot
        bot.figures.rasa_mb = sum(resident_mb(stack.pid(name)) for name in stack.rasa_ports())
        bot.figures.actions_mb = resident_mb(stack.pid("actions"))


def measure_round(bot: Bot, single: int, crowd: int, progress: Callable[[str], None]) -> None:
    figures = bot.figures
    timings, rate = asyncio.run(conversations(bot.url, 1, single))
    figures.single += timings
    figures.single_rate.append(rate)
    progress(f"  {bot.name}: 1 visitor, {single} messages: p50 {percentile(timings, 0.5):.0f} ms, {rate:.1f} msgs/s")
    timings, rate = asyncio.run(conversations(bot.url, CONCURRENT_USERS, crowd))
    figures.crowd += timings
    figures.crowd_rate.append(rate)
    progress(f"  {bot.name}: {CONCURRENT_USERS} visitors, {crowd} messages: {rate:.1f} msgs/s")
    turns = asyncio.run(long_conversation(bot.url, LONG_TURNS))
    figures.early_turns += turns[:TURN_WINDOW]
    figures.late_turns += turns[-TURN_WINDOW:]
    progress(
        f"  {bot.name}: one {LONG_TURNS}-turn conversation: turns 1-{TURN_WINDOW} p50 "
        f"{percentile(turns[:TURN_WINDOW], 0.5):.0f} ms, "
        f"last {TURN_WINDOW} {percentile(turns[-TURN_WINDOW:], 0.5):.0f} ms"
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def table(bots: list[Bot]) -> str:
    """The markdown table: one column per bot, the first (the stock bot) being the reference of every ratio."""
    stock = bots[0].figures
    late = f"{LONG_TURNS - TURN_WINDOW + 1}-{LONG_TURNS}"

    def row(label: str, value: Callable[[Figures], float], unit: str, higher_is_better: bool) -> str:
        decimals = 1 if unit == "msgs/s" else 0
        cells = [f"{value(bot.figures):,.{decimals}f} {unit}" if value(bot.figures) else "none" for bot in bots]
        ratios = []
        for bot in bots[1:]:
            ours, reference = value(bot.figures), value(stock)
            if not (ours and reference):  # the stock bot has no action server
                ratios.append("")
                continue
            ratios.append(f"{(ours / reference if higher_is_better else reference / ours):.2f}x")
        return f"| {label} | " + " | ".join(cells + ratios) + " |"

    ratio_heads = [f"{bot.name} vs stock" if len(bots) > 2 else "ratio (x better)" for bot in bots[1:]]
    head = "| | " + " | ".join([bot.name for bot in bots] + ratio_heads) + " |"
    rule = "|---|" + "---:|" * (2 * len(bots) - 1)
    rows = [
        row("1 visitor: p50", lambda f: percentile(f.single, 0.5), "ms", False),
        row("1 visitor: p95", lambda f: percentile(f.single, 0.95), "ms", False),
        row("1 visitor: msgs/s", lambda f: _mean(f.single_rate), "msgs/s", True),
        row(f"{CONCURRENT_USERS} visitors: p50", lambda f: percentile(f.crowd, 0.5), "ms", False),
        row(f"{CONCURRENT_USERS} visitors: p95", lambda f: percentile(f.crowd, 0.95), "ms", False),
        row(f"{CONCURRENT_USERS} visitors: msgs/s", lambda f: _mean(f.crowd_rate), "msgs/s", True),
        row(f"one conversation: turns 1-{TURN_WINDOW} p50", lambda f: percentile(f.early_turns, 0.5), "ms", False),
        row(f"one conversation: turns {late} p50", lambda f: percentile(f.late_turns, 0.5), "ms", False),
        row("ready after start", lambda f: f.ready_s, "s", False),
        row("Rasa server memory (all of them)", lambda f: f.rasa_mb, "MB", False),
        row("of it not pages of library files", lambda f: f.rasa_anonymous_mb, "MB", False),
        row("action server memory", lambda f: f.actions_mb, "MB", False),
    ]
    return "\n".join([head, rule, *rows])


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{os.cpu_count()} cores, {cpu}, Rasa {rasa.__version__}; {when}; load average at the end {load}"


def replace_between_markers(text: str, block: str) -> str:
    """``text`` with what lies between BEGIN and END replaced by ``block``; both markers must be there."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md needs the markers {BEGIN} and {END} (in this order) where the table goes")
    return text[: start + len(BEGIN)] + "\n" + block + "\n" + text[end:]


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise SystemExit(f"--variant takes NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (about a minute once started)")
    parser.add_argument("--rounds", type=int, help="rounds of the whole workload (default 2, --quick 1)")
    parser.add_argument(
        "--variant", nargs="+", action="append", default=[], metavar="NAME=VALUE", help="also run ours with these"
    )
    parser.add_argument(
        "--production", action="store_true", help="also run ours as `make prod` does: two Rasa servers behind nginx"
    )
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 2)
    single, crowd = (25, 96) if args.quick else (100, 400)

    def progress(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    starter_project(progress)
    log_dir = PROJECT_DIR / "results" / "bench"
    with ExitStack() as running:
        # Ours first: a server hands back the library pages loading read (bot/library_pages.py) only where no
        # other process maps them, and the stock bot, from the same venv, maps TensorFlow's too.
        progress("starting ours (action server, then Rasa with the SQLite tracker store)")
        ours = [running.enter_context(our_bot("this assistant", {}, log_dir))]
        if args.production:
            progress("starting ours in production mode (PostgreSQL, Redis, two Rasa servers, nginx)")
            ours.append(running.enter_context(our_production_mode(log_dir)))
        for variant in args.variant:
            progress(f"starting ours with {' '.join(variant)}")
            ours.append(running.enter_context(our_bot("with " + " ".join(variant), parse_env(variant), log_dir)))
        progress("starting the stock starter bot")
        bots = [running.enter_context(stock_bot(log_dir)), *ours]
        for bot in bots:
            asyncio.run(conversations(bot.url, 1, len(MESSAGES)))  # the first answers load things lazily
        for number in range(1, rounds + 1):
            progress(f"round {number} of {rounds}")
            # Each round starts with another bot, so a machine getting busier or quieter favours none.
            for bot in bots[number - 1 :] + bots[: number - 1]:
                measure_round(bot, single, crowd, progress)
    result = f"{table(bots)}\n\n{machine()}."
    print(result)
    if not args.no_readme:
        README.write_text(replace_between_markers(README.read_text(), result))
        progress("table written to README.md")


if __name__ == "__main__":
    main()
