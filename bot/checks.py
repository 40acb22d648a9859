"""``bot check``: every problem in the content, worded for the staff who fix it.

It also fails when the Rasa files and ``bot.topics.TOPICS`` disagree (see
``bot.topic_declarations``): a topic the model and the actions see differently.

Errors stop the content from going live (the assistant keeps the last good
version); warnings are worth a look but do not block anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_DIR
from bot.clinic import Clinic
from bot.content import ContentError, line_of_key
from bot.library import Content, collect_errors, load_content
from bot.topic_declarations import declaration_errors
from bot.topics import TOPICS
from bot.vocabulary import drift


@dataclass(frozen=True)
class Problem:
    error: ContentError
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.error}" if self.severity == "error" else f"{self.error} (warning)"


def check(content_dir: Path) -> list[Problem]:
    # A topic the model and the actions disagree about is an error even in perfect content.
    errors = [Problem(error) for error in collect_errors(content_dir) + declaration_errors(PROJECT_DIR, TOPICS)]
    if errors:
        return errors
    return [Problem(warning, "warning") for warning in warnings(content_dir)]


def warnings(content_dir: Path) -> list[ContentError]:
    """Content that loads but reads badly, or that the trained vocabulary no longer matches."""
    content = load_content(content_dir)
    found = (
        drift(content)
        + unmapped_topics(content, content_dir)
        + unreachable_clinic(content.clinic, content_dir / "clinic.yml")
    )
    for procedure in content.procedures.values():
        seen: dict[tuple[str, ...], str] = {}
        for topic, passage in procedure.passages.items():
            if passage.units in seen:
                found.append(
                    ContentError(
                        passage.page.path,
                        passage.line,
                        f"topics '{seen[passage.units]}' and '{topic}' give the same answer",
                        "point one of them at the words that answer it",
                    )
                )
            seen.setdefault(passage.units, topic)
    return found


def unmapped_topics(content: Content, content_dir: Path) -> list[ContentError]:
    """A topic the model recognises but no page answers: every such question gets "the page doesn't cover that"."""
    mapped = {topic for procedure in content.procedures.values() for topic in procedure.passages}
    return [
        ContentError(
            content_dir,
            0,
            f"no page maps the topic '{topic}', so every question about it is told the page doesn't cover it",
            "point it at the words that answer it in a page's NAME.topics.yml",
        )
        for topic in TOPICS
        if topic not in mapped
    ]


def unreachable_clinic(clinic: Clinic, path: Path) -> list[ContentError]:
    """A clinic visitors cannot reach from the urgent answer, or whose privacy notice is not linked."""
    raw = path.read_text(encoding="utf-8") if path.is_file() else ""
    found = []
    if not (clinic.phone or clinic.email):
        found.append(
            ContentError(
                path,
                line_of_key(raw, "phone"),
                "neither a phone number nor an e-mail address is set: the urgent answer can only say "
                "'see a doctor or call emergency services'",
                "fill in 'phone:' or 'email:'",
            )
        )
    if not clinic.privacy_url:
        found.append(
            ContentError(
                path,
                line_of_key(raw, "privacy_url"),
                "no privacy notice: the greeting cannot link to it",
                "set 'privacy_url:'",
            )
        )
    return found
