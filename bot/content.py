"""The content model: a procedure page parsed into sections, blocks and Q&A pairs.

A page is markdown with YAML front matter, exactly as the clinic's website
keeps it. python-frontmatter splits the two; markdown-it-py's token stream is
walked by small functions into plain-text blocks that remember the line they
came from, so every problem and every answer can name ``file:line``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.token import Token

REQUIRED_FIELDS = {"title": str}
OPTIONAL_FIELDS = {"hero_image": str, "aliases": list, "url": str}


class ContentError(Exception):
    """A problem in a content file, located precisely enough for staff to fix."""

    def __init__(self, path: Path | str, line: int, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        message = f"{self.path}:{self.line}: {self.problem}"
        return f"{message} — {self.fix}" if self.fix else message


@dataclass(frozen=True)
class Block:
    """A paragraph or a list, as plain text with its first line in the file."""

    kind: str  # "paragraph" or "list"
    text: str
    line: int
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One of the page's bold-italic question lines and the blocks answering it."""

    text: str
    line: int
    answer: tuple[Block, ...]


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    anchor: str
    line: int
    blocks: tuple[Block, ...] = ()
    questions: tuple[Question, ...] = ()

    def all_blocks(self) -> tuple[Block, ...]:
        """The section's own blocks followed by its questions' answers."""
        answers = tuple(block for question in self.questions for block in question.answer)
        return self.blocks + answers


@dataclass(frozen=True)
class Page:
    path: Path
    slug: str
    title: str
    meta: dict
    sections: tuple[Section, ...] = field(default=())

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self.meta.get("aliases") or ())

    def section(self, name: str) -> Section | None:
        """The section whose title or anchor is ``name`` (case-insensitive)."""
        wanted = name.strip().casefold()
        for section in self.sections:
            if wanted in (section.title.casefold(), section.anchor):
                return section
        return None


def slugify(text: str) -> str:
    """A heading's anchor, the way static site generators make it."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def inline_text(token: Token) -> str:
    """The words of an inline token, with every bit of markdown markup dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def is_question(token: Token) -> bool:
    """True when every word of the paragraph is both bold and italic (``***…***``)."""
    emphasis = strong = 0
    seen_text = False
    for child in token.children or []:
        if child.type == "em_open":
            emphasis += 1
        elif child.type == "em_close":
            emphasis -= 1
        elif child.type == "strong_open":
            strong += 1
        elif child.type == "strong_close":
            strong -= 1
        elif child.type == "text" and child.content.strip():
            if not (emphasis and strong):
                return False
            seen_text = True
    return seen_text


class _SectionBuilder:
    """Collects blocks and Q&A pairs under one heading while the tokens stream by."""

    def __init__(self, title: str, level: int, line: int) -> None:
        self.title, self.level, self.line = title, level, line
        self.blocks: list[Block] = []
        self.questions: list[tuple[str, int, list[Block]]] = []

    def add(self, block: Block) -> None:
        if self.questions:
            self.questions[-1][2].append(block)
        else:
            self.blocks.append(block)

    def build(self, anchor: str) -> Section:
        questions = tuple(Question(text, line, tuple(answer)) for text, line, answer in self.questions)
        return Section(self.title, self.level, anchor, self.line, tuple(self.blocks), questions)


def _walk_blocks(tokens: list[Token], first_line: int) -> list[_SectionBuilder]:
    sections: list[_SectionBuilder] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "heading_open":
            sections.append(_SectionBuilder(inline_text(tokens[index + 1]), int(token.tag[1]), line))
            index += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            index, items = _read_list(tokens, index)
            _current(sections, line).add(Block("list", "\n".join(items), line, tuple(items)))
            continue
        if token.type == "paragraph_open":
            inline = tokens[index + 1]
            if is_question(inline):
                _current(sections, line).questions.append((inline_text(inline), line, []))
            else:
                _current(sections, line).add(Block("paragraph", inline_text(inline), line))
            index += 3
            continue
        index += 1
    return sections


def _current(sections: list[_SectionBuilder], line: int) -> _SectionBuilder:
    if not sections:
        # Text before the first heading belongs to an untitled lead section.
        sections.append(_SectionBuilder("", 1, line))
    return sections[-1]


def _read_list(tokens: list[Token], start: int) -> tuple[int, list[str]]:
    """The items of the list opening at ``start``, and the index just past it."""
    depth, items, index = 0, [], start
    while True:
        token = tokens[index]
        if token.type.endswith("_list_open"):
            depth += 1
        elif token.type.endswith("_list_close"):
            depth -= 1
            if depth == 0:
                return index + 1, items
        elif token.type == "inline" and depth == 1:
            items.append(inline_text(token))
        index += 1


def _body_offset(raw: str, body: str) -> int:
    """How many lines of the file come before the markdown body."""
    if not body:
        return raw.count("\n")
    return raw[: raw.find(body)].count("\n")


def load_yaml(path: Path, text: str, what: str = "the file") -> object:
    """Parse YAML, turning a syntax error into a ContentError at the line where the problem starts."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or error
        raise ContentError(
            path,
            mark.line + 1 if mark else 1,
            f"{what} is not valid YAML ({problem})",
            "check the indentation and the quotes",
        ) from error


def line_of_key(raw: str, key: str) -> int:
    """The line where a top-level ``key:`` is written, or 1."""
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*:", raw, re.MULTILINE)
    return raw[: match.start()].count("\n") + 1 if match else 1


def _read_front_matter(path: Path, raw: str) -> tuple[dict, str]:
    """The page's metadata and markdown body; python-frontmatter finds where they split."""
    if not raw.strip():
        raise ContentError(path, 1, "the file is empty", "write the page's front matter and text")
    handler = YAMLHandler()
    if not raw.lstrip().startswith("---") or not handler.detect(raw):
        raise ContentError(
            path, 1, "the page has no front matter", "start the file with '---', a 'title:' line and '---'"
        )
    header, body = handler.split(raw)
    # The header starts right after the opening "---", so its lines are the file's lines.
    metadata = load_yaml(path, header, "the front matter")
    if not isinstance(metadata, dict):
        raise ContentError(
            path,
            2,
            f"the front matter must be 'name: value' lines, not {type(metadata).__name__}",
            "write it as 'title: …' between the '---' lines",
        )
    return metadata, body


def _check_fields(path: Path, raw: str, meta: dict) -> None:
    for name in REQUIRED_FIELDS:
        if name not in meta:
            raise ContentError(path, 1, f"the front matter has no '{name}'", f"add a '{name}:' line")
    for name, kind in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items():
        if name in meta and not isinstance(meta[name], kind):
            line = line_of_key(raw, name)
            raise ContentError(
                path,
                line,
                f"'{name}' should be {'text' if kind is str else 'a list'}, not {type(meta[name]).__name__}",
                f"write '{name}:' as {'plain text' if kind is str else 'a list of lines starting with -'}",
            )


def _finish_sections(path: Path, builders: list[_SectionBuilder]) -> tuple[Section, ...]:
    sections: list[Section] = []
    used: dict[str, int] = {}
    for position, builder in enumerate(builders):
        following = builders[position + 1] if position + 1 < len(builders) else None
        has_subsection = following is not None and following.level > builder.level
        if builder.title and not builder.blocks and not builder.questions and not has_subsection:
            raise ContentError(
                path,
                builder.line,
                f"the heading '{builder.title}' has no text under it",
                "write a paragraph under it or delete the heading",
            )
        for text, line, answer in builder.questions:
            if not answer:
                raise ContentError(
                    path,
                    line,
                    f"the question '{text}' has no answer",
                    "write the answer as a paragraph right under the question",
                )
        anchor = slugify(builder.title) or "top"
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor] - 1}"
        sections.append(builder.build(anchor))
    return tuple(sections)


_markdown = MarkdownIt("commonmark")


def parse_page(path: Path | str, raw: str | None = None) -> Page:
    """Parse one page; raise ContentError naming file and line for bad content."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8") if raw is None else raw
    metadata, body = _read_front_matter(path, raw)
    _check_fields(path, raw, metadata)
    if not body.strip():
        raise ContentError(
            path,
            raw.count("\n") + 1,
            "the page has front matter but no text",
            "write the page's text under the front matter",
        )
    builders = _walk_blocks(_markdown.parse(body), _body_offset(raw, body) + 1)
    return Page(path, path.stem, metadata["title"], metadata, _finish_sections(path, builders))
