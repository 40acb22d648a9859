"""The content model: the page parsed into sections, blocks and questions, and bad pages refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import ContentError, parse_page, slugify
from tests.conftest import PAGE

GOOD_HEADER = "---\ntitle: Test page\n---\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_page_sections_have_titles_levels_anchors_and_lines():
    page = parse_page(PAGE)
    assert page.title == "Laser removal of pigment spots"
    assert [(s.level, s.anchor) for s in page.sections] == [
        (1, "laser-removal-of-pigment-spots"),
        (2, "what-are-age-spots-and-the-causes-of-their-occurrence"),
        (2, "indications-for-the-procedure"),
        (2, "contraindications"),
        (3, "what-does-the-skin-look-like-after-the-procedure"),
    ]
    contraindications = page.section("Contraindications")
    assert PAGE.read_text().splitlines()[contraindications.line - 1] == "## Contraindications"


def test_bold_italic_lines_become_questions_with_their_answers():
    section = parse_page(PAGE).section("what-does-the-skin-look-like-after-the-procedure")
    questions = {q.text: q for q in section.questions}
    assert set(questions) == {
        "How many treatments are needed to completely remove hyperpigmentation?",
        "How safe is it?",
    }
    sessions = questions["How many treatments are needed to completely remove hyperpigmentation?"]
    assert "three to five sessions" in sessions.answer[0].text
    assert "***" not in sessions.text
    # The paragraph before the first question stays the section's own text.
    assert section.blocks[0].text.startswith("At the very initial stage")


def test_lists_keep_their_items_without_markup():
    indications = parse_page(PAGE).section("Indications for the procedure")
    lists = [b for b in indications.blocks if b.kind == "list"]
    assert len(lists) == 1 and len(lists[0].items) == 13
    assert lists[0].items[10] == "Melasma (benign pigmentation disorder)."


def test_inline_markup_is_stripped(tmp_path):
    page = parse_page(write(tmp_path, GOOD_HEADER + "# T\n\nSome **bold** and *italic* and [a link](http://x).\n"))
    assert page.sections[0].blocks[0].text == "Some bold and italic and a link."


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("", 1, "empty"),
        ("# Just markdown\n\nNo header.\n", 1, "no front matter"),
        ("---\n- a\n- list\n---\n# T\n\nx\n", 2, "front matter"),
        ("---\ntitle: [unclosed\n---\n# T\n\nx\n", 2, "not valid YAML"),
        ("---\ntitle: 42\n---\n# T\n\nx\n", 2, "'title' should be text"),
        ("---\nhero_image: a.jpg\n---\n# T\n\nx\n", 1, "no 'title'"),
        (GOOD_HEADER + "# T\n\nText.\n\n## Empty heading\n\n## Next\n\nMore.\n", 8, "'Empty heading' has no text"),
        (GOOD_HEADER + "# T\n\nText.\n\n***A question with no answer?***\n", 8, "has no answer"),
    ],
)
def test_bad_content_is_refused_with_file_and_line(tmp_path, text, line, says):
    path = write(tmp_path, text)
    with pytest.raises(ContentError) as caught:
        parse_page(path)
    assert caught.value.path == path
    assert caught.value.line == line, str(caught.value)
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_heading_with_only_subsections_is_fine(tmp_path):
    page = parse_page(write(tmp_path, GOOD_HEADER + "# Title\n\n## Sub\n\nText.\n"))
    assert [s.title for s in page.sections] == ["Title", "Sub"]


def test_slugs_match_site_generators():
    assert (
        slugify("What are age spots and the causes of their occurrence?")
        == "what-are-age-spots-and-the-causes-of-their-occurrence"
    )
    assert slugify("Décolleté care") == "decollete-care"
