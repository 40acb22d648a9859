"""Where Rasa meets our topics: declared once, in ``bot.topics.TOPICS``.

A topic is an intent in ``domain.yml`` and a rule sending it to
``action_answer_topic`` in ``data/rules.yml``. Both are generated from TOPICS by
``python -m bot topics``, between marker lines in files that are otherwise
hand-written, so Rasa's files stay idiomatic and the list of topics has one
home. What cannot be generated (a topic's training examples) is checked, and
``bot check`` names the file, the line and the fix wherever the files and
TOPICS disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_DIR
from bot.content import ContentError
from bot.topics import TOPICS

BEGIN = "# >>> topics: generated from bot.topics.TOPICS by `python -m bot topics`; do not edit by hand"
END = "# <<< topics"
REGENERATE = "run `python -m bot topics`, then `make train`"
TOPIC_EXAMPLES = Path("data") / "nlu" / "topics.yml"
# "- sessions" in the domain's intents, "- intent: sessions" in a rule.
_NAMED = re.compile(r"^\s*- (?:intent: )?(\w+)\s*$")
_TRAINED = re.compile(r"^- intent: (\w+)\s*$")


@dataclass(frozen=True)
class Block:
    """The generated part of one Rasa file: what each topic contributes to it."""

    path: Path  # relative to the project
    declare: Callable[[str], str]


def _intent(topic: str) -> str:
    return f"  - {topic}\n"


def _rule(topic: str) -> str:
    return (
        f"- rule: answer {topic.replace('_', ' ')} from the page\n"
        f"  steps:\n  - intent: {topic}\n  - action: action_answer_topic\n\n"
    )


BLOCKS = (Block(Path("domain.yml"), _intent), Block(Path("data") / "rules.yml", _rule))


def generated(block: Block, root: Path = PROJECT_DIR, topics: Sequence[str] = TOPICS) -> str:
    """The file as it should read: its own text, with the lines between the markers made from ``topics``."""
    path = root / block.path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    begin, end = _markers(path, lines)
    body = "".join(block.declare(topic) for topic in topics)
    return "".join(lines[: begin + 1]) + body + "".join(lines[end:])


def write(root: Path = PROJECT_DIR, topics: Sequence[str] = TOPICS) -> list[Path]:
    """Regenerate every block; the files that changed."""
    changed = []
    for block in BLOCKS:
        path, text = root / block.path, generated(block, root, topics)
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def declaration_errors(root: Path = PROJECT_DIR, topics: Sequence[str] = TOPICS) -> list[ContentError]:
    """Every place where the Rasa files and TOPICS disagree, with the line and the fix."""
    errors = []
    for block in BLOCKS:
        try:
            errors += _drift(block, root, topics)
        except ContentError as error:
            errors.append(error)
    return errors + _examples_errors(root / TOPIC_EXAMPLES, topics)


def _drift(block: Block, root: Path, topics: Sequence[str]) -> list[ContentError]:
    path = root / block.path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    begin, end = _markers(path, lines)
    wanted = generated(block, root, topics).splitlines(keepends=True)
    if lines == wanted:
        return []
    first = next((n for n, (have, want) in enumerate(zip(lines, wanted, strict=False)) if have != want), end)
    declared = [match[1] for line in lines[begin + 1 : end] if (match := _NAMED.match(line))]
    missing = [topic for topic in topics if topic not in declared]
    unknown = [name for name in declared if name not in topics]
    summary = "; ".join(
        f"{label} {', '.join(names)}" for label, names in (("missing", missing), ("not in TOPICS:", unknown)) if names
    )
    return [
        ContentError(
            path,
            first + 1,
            f"the generated topics differ from bot.topics.TOPICS ({summary or 'edited by hand'})",
            f"add or remove topics in TOPICS only, then {REGENERATE}",
        )
    ]


def _markers(path: Path, lines: list[str]) -> tuple[int, int]:
    """The indexes of the marker lines around the generated block."""
    found = [n for n, line in enumerate(lines) if line.strip() in (BEGIN, END)]
    if len(found) != 2 or lines[found[0]].strip() != BEGIN:
        raise ContentError(
            path,
            found[0] + 1 if found else 1,
            "the markers around the generated topics are missing or out of order",
            f"put back the lines '{BEGIN}' and '{END}' around the topics, then {REGENERATE}",
        )
    return found[0], found[1]


def _examples_errors(path: Path, topics: Sequence[str]) -> list[ContentError]:
    """A topic the model has no examples of, or examples of an intent that is not a topic."""
    lines = path.read_text(encoding="utf-8").splitlines()
    intents = {match[1]: n for n, line in enumerate(lines, 1) if (match := _TRAINED.match(line))}
    errors = [
        ContentError(
            path,
            line,
            f"'{intent}' is trained as a topic but is not in bot.topics.TOPICS",
            f"add it to TOPICS and {REGENERATE}, or move its examples to another file of data/nlu",
        )
        for intent, line in intents.items()
        if intent not in topics
    ]
    return errors + [
        ContentError(
            path,
            len(lines),
            f"topic '{topic}' has no training examples, so the model can never recognise it",
            f"add '- intent: {topic}' with examples written as visitors would ask, then `make train`",
        )
        for topic in topics
        if topic not in intents
    ]
