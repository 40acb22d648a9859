"""Topic mappings: which words of a page answer which kind of question.

Each page ``NAME.md`` has a ``NAME.topics.yml`` beside it (see the comments in
the shipped one). Resolving a mapping against the parsed page yields a
:class:`Passage` per topic; a mapping that no longer matches the page is a
:class:`ContentError`, so ``bot check`` catches a broken edit before a patient
does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import Block, ContentError, Page, Section, line_of_key, load_yaml

TOPICS = (
    "sessions",
    "safety",
    "pain",
    "recovery",
    "skin_after",
    "contraindications",
    "indications",
    "body_areas",
    "results",
    "age_spots",
    "causes",
    "how_it_works",
    "consultation",
)
SELECTOR_KEYS = {"section", "question", "sentences", "paragraphs", "list"}

# A sentence ends at . ! ? or …, possibly followed by a closing quote (straight or typographic).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"\u201d\u2019]?\s+")


@dataclass(frozen=True)
class Passage:
    """The exact words of a page that answer one topic."""

    topic: str
    page: Page
    section: Section
    units: tuple[str, ...]  # sentences, paragraphs or list items, in page order
    line: int
    suggestion: str  # the question offered as a button for this topic

    @property
    def text(self) -> str:
        return "\n".join(self.units)

    @property
    def location(self) -> str:
        return f"{self.page.path}:{self.line}"


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping each sentence's own words."""
    return [_tidy(part) for part in _SENTENCE_END.split(text) if part.strip()]


def _tidy(sentence: str) -> str:
    """Drop a quote mark left dangling when a quoted paragraph is cut into sentences."""
    sentence = sentence.strip()
    for opening, closing in (("“", "”"), ('"', '"')):
        if sentence.count(opening) + sentence.count(closing) == 1 or (
            opening == closing and sentence.count(opening) % 2
        ):
            sentence = sentence.replace(opening, "").replace(closing, "")
    return sentence.strip()


def mapping_path(page_path: Path) -> Path:
    return page_path.with_name(page_path.stem + ".topics.yml")


def load_mapping(path: Path) -> tuple[dict[str, dict], str]:
    """The raw topic mapping of one page, checked for shape but not resolved."""
    if not path.exists():
        raise ContentError(
            path, 1, "the page has no topic mapping", f"create {path.name} beside the page (copy the shipped one)"
        )
    raw = path.read_text(encoding="utf-8")
    mapping = load_yaml(path, raw) or {}
    if not isinstance(mapping, dict):
        raise ContentError(path, 1, "the mapping must be 'topic:' entries", "copy the shipped file's layout")
    for topic, entry in mapping.items():
        line = line_of_key(raw, str(topic))
        if topic not in TOPICS:
            raise ContentError(
                path, line, f"'{topic}' is not a topic the assistant knows", f"use one of: {', '.join(TOPICS)}"
            )
        if not isinstance(entry, dict) or not isinstance(entry.get("from"), list) or not entry["from"]:
            raise ContentError(
                path, line, f"topic '{topic}' has no 'from:' list", "add 'from:' with a '- section:' line"
            )
        for selector in entry["from"]:
            unknown = set(selector) - SELECTOR_KEYS if isinstance(selector, dict) else {"?"}
            if unknown or "section" not in selector:
                raise ContentError(
                    path,
                    line,
                    f"topic '{topic}' has an entry without 'section:' or with unknown keys {sorted(unknown)}",
                    f"use only: {', '.join(sorted(SELECTOR_KEYS))}",
                )
    return mapping, raw


def resolve(page: Page) -> dict[str, Passage]:
    """Every topic of the page's mapping, resolved to the words that answer it."""
    path = mapping_path(page.path)
    mapping, raw = load_mapping(path)
    passages = {}
    for topic, entry in mapping.items():
        line = line_of_key(raw, topic)
        parts = [_select(page, selector, path, line, topic) for selector in entry["from"]]
        units = tuple(dict.fromkeys(unit for _, unit_list, _ in parts for unit in unit_list))
        section, _, first_line = parts[0]
        suggestion = str(entry.get("suggest") or topic.replace("_", " "))
        passages[topic] = Passage(topic, page, section, units, first_line, suggestion)
    return passages


def _select(page: Page, selector: dict, path: Path, line: int, topic: str) -> tuple[Section, list[str], int]:
    section = page.section(str(selector["section"]))
    if section is None:
        raise ContentError(
            path,
            line,
            f"topic '{topic}': the page has no heading '{selector['section']}'",
            f"fix the heading in {page.path.name} or the 'section:' here",
        )
    blocks: tuple[Block, ...] = section.blocks
    first_line = section.line
    if selector.get("question"):
        wanted = str(selector["question"]).casefold()
        question = next((q for q in section.questions if q.text.casefold().startswith(wanted)), None)
        if question is None:
            raise ContentError(
                path,
                line,
                f"topic '{topic}': no question starting '{selector['question']}' under '{section.title}'",
                "fix the question on the page or the 'question:' here",
            )
        blocks, first_line = question.answer, question.answer[0].line
    # (line, position within the block, words): sorted, they give page order.
    units: list[tuple[int, int, str]] = []
    for phrase in selector.get("paragraphs") or []:
        block = _find(blocks, phrase, path, line, topic, section)
        units.append((block.line, 0, block.text))
    for phrase in selector.get("sentences") or []:
        block = _find(blocks, phrase, path, line, topic, section)
        position, sentence = next(
            (n, s) for n, s in enumerate(sentences(block.text)) if phrase.casefold() in s.casefold()
        )
        units.append((block.line, position, sentence))
    if selector.get("list"):
        lists = [block for block in blocks if block.kind == "list"]
        if not lists:
            raise ContentError(
                path,
                line,
                f"topic '{topic}': '{section.title}' has no list",
                "restore the list on the page or remove 'list: true'",
            )
        units.extend((block.line, n, item) for block in lists for n, item in enumerate(block.items))
    if not units:
        units = [(block.line, n, text) for block in blocks for n, text in enumerate(block.items or (block.text,))]
    units.sort(key=lambda unit: unit[:2])
    return section, [text for _, _, text in units], units[0][0] if units else first_line


def _find(blocks: tuple[Block, ...], phrase: str, path: Path, line: int, topic: str, section: Section) -> Block:
    for block in blocks:
        if phrase.casefold() in block.text.casefold():
            return block
    raise ContentError(
        path,
        line,
        f"topic '{topic}': no text under '{section.title}' contains '{phrase}'",
        "the page's wording changed: update the phrase here to words that are on the page",
    )
