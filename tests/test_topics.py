"""Topic mappings: each topic resolves to the page's own words, and broken mappings are caught."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.content import ContentError
from bot.library import collect_errors, load_content
from bot.topics import TOPICS, sentences

EXPECTED_WORDS = {
    "sessions": "three to five sessions",
    "safety": "does not pose any risk to your health",
    "pain": "does not require the use of painkillers",
    "recovery": "slight swelling or redness of the skin may occur for two to three days",
    "skin_after": "after a week they will gradually begin to lighten",
    "contraindications": "not recommended during lactation or pregnancy",
    "indications": "Melasma (benign pigmentation disorder).",
    "body_areas": "back of the hands",
    "results": "cumulative effect",
    "age_spots": "areas of the skin with excess melanin",
    "causes": "hormonal changes, aging",
    "how_it_works": "laser light beam is directed at the pigment spot",
    "consultation": "preliminary consultation with a dermatologist is required",
}


def test_every_topic_is_mapped_to_the_words_that_answer_it(shipped):
    passages = next(iter(shipped.procedures.values())).passages
    assert set(passages) == set(TOPICS)
    for topic, expected in EXPECTED_WORDS.items():
        assert expected in passages[topic].text, topic


def test_passages_are_short_not_whole_sections(shipped):
    passages = next(iter(shipped.procedures.values())).passages
    assert "three to five" not in passages["pain"].text
    assert "keloid" not in passages["recovery"].text
    # The garbled fragment after "lighten." on the page is not part of the answer.
    assert "your daily life" not in passages["skin_after"].text


def test_passage_location_points_at_the_answering_line(shipped):
    passage = next(iter(shipped.procedures.values())).passages["sessions"]
    path, line = passage.location.rsplit(":", 1)
    assert "three to five sessions" in Path(path).read_text().splitlines()[int(line) - 1]


def test_sentences_split_and_drop_dangling_quotes():
    assert sentences('“Safe. It works. Really."') == ["Safe.", "It works.", "Really."]


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("## Contraindications", "## Restrictions", "no heading 'Contraindications'"),
        ("on average about three to five sessions", "on average a few sessions", None),
        ("***How safe is it?***", "***Is it safe?***", "no question starting 'How safe is it?'"),
        (
            "Hyperpigmentation can have various causes",
            "Hyperpigmentation has many causes",
            "contains 'Hyperpigmentation can have various causes'",
        ),
    ],
)
def test_a_page_edit_that_breaks_a_mapping_is_caught_with_file_and_line(content_copy, old, new, says):
    page = content_copy / "procedures" / "laser-pigment-removal.md"
    edit(page, old, new)
    errors = collect_errors(content_copy)
    if says is None:  # an edit that keeps the mapping intact is served as is
        assert errors == []
        assert "a few sessions" in next(iter(load_content(content_copy).procedures.values())).passages["sessions"].text
        return
    assert len(errors) == 1
    error = errors[0]
    assert error.path.name == "laser-pigment-removal.topics.yml" and says in str(error)
    assert re.match(r"\w+:", error.path.read_text().splitlines()[error.line - 1])


def test_unknown_topic_in_mapping_is_refused(content_copy):
    mapping = content_copy / "procedures" / "laser-pigment-removal.topics.yml"
    mapping.write_text(mapping.read_text() + "\nprices:\n  from:\n    - section: Contraindications\n")
    errors = collect_errors(content_copy)
    assert errors and "'prices' is not a topic" in str(errors[0])
    assert errors[0].line == len(mapping.read_text().splitlines()) - 2


def test_missing_mapping_file_is_an_error(content_copy):
    (content_copy / "procedures" / "laser-pigment-removal.topics.yml").unlink()
    with pytest.raises(ContentError, match="no topic mapping"):
        load_content(content_copy)
