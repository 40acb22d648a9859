"""``bot report unanswered``: what visitors asked that the assistant could not answer well.

Conversations are read from the tracker store configured in ``endpoints.yml``
through Rasa's own machinery, so whatever store the servers write to (SQLite by
default) is the one reported on. Staff previews (``bot ask``) are left out: the
report is about visitors.

Rasa is imported inside the functions that need it: it takes seconds to load,
and every ``bot`` command imports this module to build its command line.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import PROJECT_DIR
from bot.servers import Stack

if TYPE_CHECKING:
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.events import Event, UserUttered
    from rasa.utils.endpoints import EndpointConfig

# Production mode's staff environment (run/prod/staff.env) points this at endpoints.prod.yml.
ENDPOINTS = Path(os.environ.get("CLINIC_ENDPOINTS") or PROJECT_DIR / "endpoints.yml")
STAFF_PREVIEW_PREFIX = "staff-preview-"
FALLBACK_ACTION = "action_honest_fallback"
FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
# Measured on the held-out questions (README, Thresholds): below 0.6 puts one answer in six in the report
# and 10 of the 22 wrong ones; 0.7 puts in two in nine for 2 more wrong ones.
DEFAULT_BELOW = 0.6
SIMILARITY = 0.85
# A question longer than this is cut in the report: a visitor may paste a whole letter (or 5 MB).
SHOWN_CHARACTERS = 200
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PERIODS = {"h": "hours", "d": "days", "w": "weeks"}


class ReportError(Exception):
    """The conversations cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Asked:
    """One visitor message the assistant fell back on or was unsure about."""

    text: str
    timestamp: float
    intent: str
    confidence: float
    fell_back: bool

    @property
    def reason(self) -> str:
        return "fell back" if self.fell_back else "low confidence"

    @property
    def why(self) -> str:
        return self.reason if self.fell_back else f"{self.reason} ({self.intent} {self.score})"

    @property
    def score(self) -> str:
        """The confidence cut (not rounded) to two decimals, so 0.699 never reads as the 0.70 threshold."""
        return f"{math.floor(self.confidence * 100) / 100:.2f}"


@dataclass(frozen=True)
class Group:
    """Near-duplicate messages, newest first."""

    messages: tuple[Asked, ...]

    @property
    def newest(self) -> Asked:
        return self.messages[0]

    def other_wordings(self) -> list[str]:
        """The ways it was asked besides the newest, leaving out mere case or punctuation changes."""
        seen = {normalise(self.newest.text)}
        wordings = []
        for message in self.messages[1:]:
            if normalise(message.text) not in seen:
                seen.add(normalise(message.text))
                wordings.append(message.text)
        return wordings


# --- command-line values -----------------------------------------------------------------------


def parse_since(value: str) -> timedelta:
    """``12h``, ``7d`` or ``2w`` as a time span (an argparse type)."""
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"'{value}' is not a period: write e.g. 12h, 7d or 2w")
    return timedelta(**{_PERIODS[match[2]]: int(match[1])})


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of 1 or more")
    return int(value)


def confidence(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a confidence between 0 and 1, e.g. 0.7")
    return number


# --- finding the unanswered messages -----------------------------------------------------------


def _turns(events: Iterable[Event]) -> Iterator[tuple[UserUttered, list[str]]]:
    """Each visitor message with the names of the actions that ran in reply, up to the next listen."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    pending, actions = None, []
    for event in events:
        if isinstance(event, UserUttered):
            if pending is not None:
                yield pending, actions
            pending, actions = event, []
        elif isinstance(event, ActionExecuted) and pending is not None:
            if event.action_name == "action_listen":
                yield pending, actions
                pending = None
            else:
                actions.append(event.action_name)
    if pending is not None:
        yield pending, actions


def unanswered(conversations: Iterable[list[Event]], since: float, below: float) -> list[Asked]:
    """Messages since ``since`` (epoch seconds) that fell back or scored under ``below``, newest first."""
    found = []
    for events in conversations:
        for user, actions in _turns(events):
            intent = user.intent or {}
            name, score = intent.get("name") or "", float(intent.get("confidence") or 0)
            fell_back = FALLBACK_ACTION in actions or name in FALLBACK_INTENTS
            if user.timestamp >= since and (fell_back or score < below):
                found.append(Asked(user.text or "", user.timestamp, name, score, fell_back))
    return sorted(found, key=lambda asked: asked.timestamp, reverse=True)


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, single spaces: "How much??" and "how much" read the same."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def similar(first: str, second: str) -> bool:
    """Token-set similarity: the same words in any order, give or take a small difference.

    Each text's distinct normalised words are sorted and joined, and difflib's
    ratio of the two strings must reach ``SIMILARITY``. "where is the clinic"
    and "the clinic, where is it?" merge; "how much does it cost" and "how much
    does it hurt" do not.
    """
    tokens = [" ".join(sorted(set(normalise(text).split()))) for text in (first, second)]
    return SequenceMatcher(None, *tokens).ratio() >= SIMILARITY


def group(messages: list[Asked]) -> list[Group]:
    """Near-duplicates merged, groups ordered by their newest message.

    Greedy and deliberately simple: messages are taken newest first, and each
    joins the first group whose newest message it is ``similar`` to, or starts
    a group of its own. Good enough for the few hundred messages a clinic gets.
    """
    groups: list[list[Asked]] = []
    for message in sorted(messages, key=lambda asked: asked.timestamp, reverse=True):
        home = next((members for members in groups if similar(members[0].text, message.text)), None)
        if home is None:
            groups.append([message])
        else:
            home.append(message)
    return [Group(tuple(members)) for members in groups]


# --- reading the tracker store -----------------------------------------------------------------


def tracker_store_config(endpoints: Path = ENDPOINTS) -> EndpointConfig:
    """The ``tracker_store`` of ``endpoints.yml``, with ${…} filled in as the servers fill it in."""
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import read_endpoint_config

    if not endpoints.is_file():
        raise ReportError(f"{endpoints} does not exist: the report needs the assistant's endpoints.yml")
    # Unset variables get the defaults `make run` gives the servers, so the report reads their database; only
    # while reading, so that servers this process starts later (the tests') do not inherit those defaults.
    saved = dict(os.environ)
    os.environ.update(Stack().environment())
    try:
        config = read_endpoint_config(str(endpoints), "tracker_store")
    except RasaException as error:
        raise ReportError(f"{endpoints} cannot be read: {error}") from error
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if config is None:
        raise ReportError(
            f"{endpoints} has no 'tracker_store': conversations are only kept in memory, "
            "so there is nothing to report on"
        )
    _locate_sqlite(config)
    return config


def _locate_sqlite(config: EndpointConfig) -> None:
    """Pin a SQLite path to the file the servers use, refusing one that does not exist.

    Rasa would silently create an empty database, and a report on it would
    wrongly say that every question was answered.
    """
    from bot.tracker_store import TYPE

    is_sql = (config.type or "").lower() in ("sql", TYPE.lower())
    is_sqlite = is_sql and config.kwargs.get("dialect", "sqlite") == "sqlite"
    if not is_sqlite or config.kwargs.get("host"):
        return
    # The servers run in the project folder, so a relative path is relative to it.
    path = PROJECT_DIR / str(config.kwargs.get("db", "rasa.db"))
    if not path.is_file():
        raise ReportError(
            f"No conversations database at {path}. The assistant creates it when it first "
            "answers a question (make run); if it runs elsewhere, set TRACKER_DB to its tracker.db"
        )
    config.kwargs["db"] = str(path)


@contextmanager
def tracker_store(endpoints: Path = ENDPOINTS) -> Iterator[TrackerStore]:
    """The tracker store the servers write to; a failure to read or change it becomes a :class:`ReportError`."""
    with _quiet_libraries():
        config = tracker_store_config(endpoints)
        from rasa.core.tracker_store import TrackerStore
        from rasa.shared.core.domain import Domain
        from rasa.shared.exceptions import RasaException
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield TrackerStore.create(config, Domain.load(str(PROJECT_DIR / "domain.yml")))
        except (RasaException, SQLAlchemyError, OSError) as error:
            where = config.kwargs.get("db") or config.url or config.type
            raise ReportError(f"Cannot read the conversations in {where}: {_first_line(error)}") from error


def read_conversations(endpoints: Path = ENDPOINTS) -> list[list[Event]]:
    """Every stored conversation's events, across all its sessions, except staff previews."""
    with tracker_store(endpoints) as store:
        return asyncio.run(_all_events(store))


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Silence the libraries' deprecation warnings, which mean nothing to staff.

    A filter alone is not enough: importing Sanic (via Rasa) puts its own
    "show DeprecationWarning once" filter in front of ours.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.showwarning = lambda *args, **kwargs: None
        yield


async def _all_events(store: TrackerStore) -> list[list[Event]]:
    conversations = []
    for sender in await store.keys():
        if sender.startswith(STAFF_PREVIEW_PREFIX):
            continue
        tracker = await store.retrieve_full_tracker(sender)
        if tracker is not None:
            conversations.append(list(tracker.events))
    return conversations


def _first_line(error: Exception) -> str:
    """SQLAlchemy appends SQL and a link to its messages; the first line says what went wrong."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]


# --- output ------------------------------------------------------------------------------------


def shortened(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """One line, at most ``limit`` characters and an ellipsis: what a report shows of a message."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit].rstrip() + "…"


def spreadsheet_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, quoted with a leading ' so it is shown as typed."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def format_text(groups: list[Group], since: float, total: int) -> str:
    """A table for reading in a terminal: count, when last asked, why, and the question."""
    if not groups:
        return f"No unanswered questions since {_when(since)}."
    width = max(len(item.newest.why) for item in groups)
    lines = [
        f"Questions the assistant could not answer well since {_when(since)}, newest first:",
        "",
        f"{'count':>5}  {'last asked':<16}  {'why':<{width}}  question",
    ]
    for item in groups:
        lines.append(
            f"{len(item.messages):>5}  {_when(item.newest.timestamp):<16}  {item.newest.why:<{width}}  "
            f"{shortened(item.newest.text)}"
        )
        lines.extend(
            f"{'':>5}  {'':<16}  {'':<{width}}  also asked as: {shortened(wording)}"
            for wording in item.other_wordings()
        )
    shown = sum(len(item.messages) for item in groups)
    lines += ["", f"{shown} of {total} message(s) shown, in {len(groups)} group(s)."]
    return "\n".join(lines)


def write_csv(groups: list[Group], stream: TextIO) -> None:
    """One row per group, for a spreadsheet."""
    writer = csv.writer(stream)
    writer.writerow(["count", "last_asked", "question", "why", "intent", "confidence", "other_wordings"])
    for item in groups:
        newest = item.newest
        row = [
            len(item.messages),
            datetime.fromtimestamp(newest.timestamp).isoformat(timespec="seconds"),
            shortened(newest.text),
            newest.reason,
            newest.intent,
            newest.score,
            " | ".join(shortened(wording) for wording in item.other_wordings()),
        ]
        writer.writerow([spreadsheet_cell(cell) for cell in row])


def run_unanswered(since: timedelta, limit: int, below: float, output: str) -> int:
    """``bot report unanswered``: print the report; exit code 2 when the conversations cannot be read."""
    try:
        conversations = read_conversations()
    except ReportError as error:
        print(f"Cannot make the report: {error}", file=sys.stderr)
        return 2
    cutoff = (datetime.now() - since).timestamp()
    messages = unanswered(conversations, cutoff, below)
    groups = group(messages)[:limit]
    if output == "csv":
        write_csv(groups, sys.stdout)
    else:
        print(format_text(groups, cutoff, len(messages)))
    return 0
