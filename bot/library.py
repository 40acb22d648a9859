"""The content directory as the assistant serves it: every page, its topics, the clinic.

:class:`ContentLibrary` reloads whenever a file under the directory changes,
so a saved edit is served on the next question with no restart. A broken edit
never goes live: the last content that loaded cleanly stays in service and the
error is logged with its file and line until the edit is fixed.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_DIR
from bot.clinic import Clinic, load_clinic
from bot.content import ContentError, Page, parse_page
from bot.terms import contains, words
from bot.topics import Passage, resolve

logger = logging.getLogger(__name__)

DEFAULT_CONTENT_DIR = PROJECT_DIR / "content"


@dataclass(frozen=True)
class Procedure:
    """One procedure page with its resolved topic passages."""

    page: Page
    passages: dict[str, Passage]  # in the mapping's order, which is the order suggestions are offered in

    @property
    def slug(self) -> str:
        return self.page.slug

    @property
    def title(self) -> str:
        return self.page.title

    @property
    def suggestions(self) -> dict[str, str]:
        return {topic: passage.suggestion for topic, passage in self.passages.items()}


@dataclass(frozen=True)
class Content:
    """Everything under one content directory, parsed and checked."""

    procedures: dict[str, Procedure]
    clinic: Clinic

    def procedure_named(self, message: str) -> Procedure | None:
        """The one procedure the message names, by an alias or a word only its title has."""
        named = [p for p in self.procedures.values() if any(contains(message, key) for key in self._keys(p))]
        return named[0] if len(named) == 1 else None

    def _keys(self, procedure: Procedure) -> list[str]:
        others = {word for p in self.procedures.values() if p is not procedure for word in words(p.title)}
        distinctive = [word for word in words(procedure.title) if word not in others and len(word) > 3]
        return [*procedure.page.aliases, *distinctive]


def page_files(content_dir: Path) -> list[Path]:
    return sorted(path for path in content_dir.rglob("*.md") if path.is_file())


def load_content(content_dir: Path) -> Content:
    """Parse every page under ``content_dir``; raise the first ContentError found."""
    content, errors = _parse(content_dir)
    if errors:
        raise errors[0]
    return content


def collect_errors(content_dir: Path) -> list[ContentError]:
    """Every blocking problem under ``content_dir``, one per file at most."""
    return _parse(content_dir)[1]


def _parse(content_dir: Path) -> tuple[Content, list[ContentError]]:
    """The content and every problem in it, from one pass over the files."""
    if not content_dir.is_dir():
        missing = ContentError(content_dir, 0, "the content folder does not exist", "pass the folder with the pages")
        return Content({}, Clinic()), [missing]
    errors: list[ContentError] = []
    procedures = {}
    pages = page_files(content_dir)
    if not pages:
        errors.append(ContentError(content_dir, 0, "no pages (.md files) found", "put the procedure pages here"))
    for path in pages:
        try:
            page = parse_page(path)
            procedures[page.slug] = Procedure(page, resolve(page))
        except ContentError as error:
            errors.append(error)
    clinic = Clinic()
    try:
        clinic = load_clinic(content_dir / "clinic.yml")
    except ContentError as error:
        errors.append(error)
    return Content(procedures, clinic), errors


class ContentLibrary:
    """Serves the newest content that loads cleanly; safe to share between requests."""

    def __init__(self, content_dir: Path | str | None = None) -> None:
        self.content_dir = Path(content_dir or os.environ.get("CLINIC_CONTENT_DIR") or DEFAULT_CONTENT_DIR)
        self._lock = threading.Lock()
        self._stamp: tuple = ()
        self._content: Content | None = None
        self.last_error: ContentError | None = None

    def current(self) -> Content:
        """The content to answer from now; reloads after an edit, keeps the last good one on error."""
        stamp = self._stamp_files()
        with self._lock:
            if stamp != self._stamp or self._content is None:
                self._reload(stamp)
            if self._content is None:
                raise self.last_error or ContentError(self.content_dir, 0, "no content loaded")
            return self._content

    def _reload(self, stamp: tuple) -> None:
        try:
            self._content = load_content(self.content_dir)
            self.last_error = None
            logger.info("Loaded content from %s (%d page(s))", self.content_dir, len(self._content.procedures))
        except ContentError as error:
            self.last_error = error
            if self._content is None:
                raise
            logger.error("Content edit not served, keeping the last good content: %s", error)
        except OSError as error:  # a file vanishing mid-save: try again next question
            logger.warning("Content changed while being read (%s); will reload on the next question", error)
            return
        self._stamp = stamp

    def _stamp_files(self) -> tuple:
        """Names, sizes and modification times of every file: cheap to take per question."""
        try:
            entries = sorted(p for p in self.content_dir.rglob("*") if p.is_file())
            return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in entries)
        except OSError:
            return ()
