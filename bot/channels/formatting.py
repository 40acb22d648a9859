"""Shaping the assistant's markdown replies for messenger apps.

Replies are written for the website: markdown with a "Read more" link at the
end and list items as "- " lines. Telegram shows a small HTML subset and
Messenger only plain text, and both cap the length of a message and of a
button's title. Everything here is pure, so it is tested without a server.

Links: the answers carry absolute links when ``site_url`` is set in
``clinic.yml``. A relative link only works on the clinic's own website, so in
a messenger it is shown as its plain title.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

TELEGRAM_LIMIT = 4096
MESSENGER_LIMIT = 2000

# Raw HTML in a reply is shown as text, never passed on as markup.
_parser = MarkdownIt("commonmark", {"html": False})

_LINKABLE = re.compile(r"https?://", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)")
# A sentence ends at . ! ? or … (and any closing quotes or brackets) before a space or a line break.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*(?=\s)")
_LIST_MARKER = re.compile(r"\s*\d+[.)]")


@dataclass(frozen=True)
class Markup:
    """How one app shows emphasis, code and links."""

    escape: Callable[[str], str]
    link: Callable[[str, str], str]  # (shown label, absolute URL) -> text
    bold: tuple[str, str] = ("", "")
    italic: tuple[str, str] = ("", "")
    code: tuple[str, str] = ("", "")
    preformatted: tuple[str, str] = ("", "")

    def wrap(self, tags: tuple[str, str], text: str) -> str:
        return f"{tags[0]}{text}{tags[1]}" if text else text


def _html_link(label: str, url: str) -> str:
    return f'<a href="{html.escape(url)}">{label}</a>'


def _plain_link(label: str, url: str) -> str:
    # Messenger turns a bare URL into a link; the label stays for people to read.
    return url if label in ("", url) else f"{label} ({url})"


TELEGRAM_HTML = Markup(
    escape=lambda text: html.escape(text, quote=False),
    link=_html_link,
    bold=("<b>", "</b>"),
    italic=("<i>", "</i>"),
    code=("<code>", "</code>"),
    preformatted=("<pre>", "</pre>"),
)
PLAIN_TEXT = Markup(escape=str, link=_plain_link)


def length(text: str) -> int:
    """Length as Telegram and Meta count it: UTF-16 code units, so an emoji counts as two."""
    return len(text.encode("utf-16-le")) // 2


def render(markdown: str, markup: Markup) -> str:
    """``markdown`` in an app's own format; no markdown syntax is left to show raw."""
    blocks: list[str] = []
    lists: list[int | None] = []  # for each open list: the next number, or None for bullets
    marker = ""
    heading = False
    last_line = -1
    for token in _parser.parse(markdown):
        if token.type == "bullet_list_open":
            lists.append(None)
        elif token.type == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1]
            marker = "  " * (len(lists) - 1) + ("• " if number is None else f"{number}. ")
            if number is not None:
                lists[-1] = number + 1
        elif token.type in ("heading_open", "heading_close"):
            heading = token.type == "heading_open"
        elif token.type in ("inline", "code_block", "fence"):
            if token.type == "inline":
                text = _inline(token.children or [], markup)
                text = markup.wrap(markup.bold, text) if heading else text
            else:
                text = markup.wrap(markup.preformatted, markup.escape(token.content.rstrip("\n")))
            start, end = token.map or (last_line + 1, last_line + 1)
            # Keep the writer's spacing: a block right under the previous one stays on the next line.
            if blocks:
                blocks.append("\n" if start == last_line else "\n\n")
            blocks.append(marker + text)
            marker, last_line = "", end
    return "".join(blocks).strip()


_INLINE_TAGS = {
    "strong_open": ("bold", 0),
    "strong_close": ("bold", 1),
    "em_open": ("italic", 0),
    "em_close": ("italic", 1),
}


def _inline(children: Sequence[Token], markup: Markup) -> str:
    parts: list[list[str]] = [[]]  # a new level collects a link's label
    targets: list[str] = []
    for child in children:
        if child.type == "text":
            parts[-1].append(markup.escape(child.content))
        elif child.type in ("softbreak", "hardbreak"):
            parts[-1].append("\n")
        elif child.type == "code_inline":
            parts[-1].append(markup.wrap(markup.code, markup.escape(child.content)))
        elif child.type in _INLINE_TAGS:
            style, side = _INLINE_TAGS[child.type]
            parts[-1].append(getattr(markup, style)[side])
        elif child.type == "link_open":
            targets.append(str(child.attrGet("href") or ""))
            parts.append([])
        elif child.type == "link_close":
            label = "".join(parts.pop())
            parts[-1].append(_link(label, targets.pop(), markup))
        elif child.type == "image":
            parts[-1].append(_link(markup.escape(child.content), str(child.attrGet("src") or ""), markup))
    return "".join(parts[0])


def _link(label: str, url: str, markup: Markup) -> str:
    return markup.link(label, url) if _LINKABLE.match(url) else label


def split_message(markdown: str, limit: int, markup: Markup) -> list[str]:
    """``markdown`` rendered as messages of at most ``limit`` characters each.

    Messages end where a line or a sentence ends, so each reads on its own;
    only a sentence longer than a whole message is cut between words.
    """
    messages: list[str] = []
    rest = markdown.strip()
    while rest:
        shown = render(rest, markup)
        if length(shown) <= limit:
            messages.append(shown)
            break
        cut, shown = _cut(rest, limit, markup)
        messages.append(shown)
        rest = rest[cut:].strip()
    return [message for message in messages if message]


def _cut(text: str, limit: int, markup: Markup) -> tuple[int, str]:
    """Where to end the first message, and that message rendered."""
    for candidates in (_sentence_ends(text), _word_ends(text), range(1, len(text))):
        found = _longest_fitting(text, sorted(candidates), limit, markup)
        if found:
            return found
    return 1, render(text[:1], markup)


def _longest_fitting(text: str, ends: Sequence[int], limit: int, markup: Markup) -> tuple[int, str] | None:
    # Rendered length grows with the prefix (nearly always), so a binary search finds the longest prefix that fits.
    best, low, high = None, 0, len(ends) - 1
    while low <= high:
        middle = (low + high) // 2
        shown = render(text[: ends[middle]], markup)
        if shown and length(shown) <= limit:
            best, low = (ends[middle], shown), middle + 1
        else:
            high = middle - 1
    return best


def _sentence_ends(text: str) -> set[int]:
    ends = {match.start() for match in re.finditer(r"\n", text)}
    for match in _SENTENCE_END.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if not _LIST_MARKER.fullmatch(text, line_start, match.start() + 1):  # "7." of a numbered list
            ends.add(match.end())
    return _outside_links(text, ends)


def _word_ends(text: str) -> set[int]:
    return _outside_links(text, {match.start() for match in re.finditer(r"\s+", text)})


def _outside_links(text: str, ends: Iterable[int]) -> set[int]:
    links = [match.span() for match in _MARKDOWN_LINK.finditer(text)]
    return {end for end in ends if end > 0 and not any(start < end < stop for start, stop in links)}


def cut_title(title: str, limit: int) -> str:
    """A button title in at most ``limit`` characters: whole words and "…" when it must be cut."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    head = title[:limit]
    kept = head.rsplit(" ", 1)[0] if " " in head else head[: limit - 1]
    return kept.rstrip(" ,;:.-\u2013\u2014") + "…"
