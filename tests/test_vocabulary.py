"""The NLU vocabulary for conditions is kept in step with the page's list."""

from __future__ import annotations

import shutil

import yaml

from bot.library import load_content
from bot.vocabulary import DATA_DIR, LOOKUPS, drift, lookup_yaml, synonyms, trained_words


def test_shipped_lookup_table_matches_the_page(shipped):
    assert LOOKUPS.read_text() == lookup_yaml(shipped)
    assert drift(shipped) == []


def test_a_new_list_item_is_flagged_until_the_model_is_retrained(content_copy, tmp_path):
    page = content_copy / "procedures" / "laser-pigment-removal.md"
    page.write_text(
        page.read_text().replace(
            "13. Stretch marks (striae) and scars.", "13. Stretch marks (striae) and scars.\n14. Vascular lesions."
        )
    )
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    warnings = [str(w) for w in drift(load_content(content_copy), data)]
    assert any("'vascular lesions' is on the list but the model was never trained on it" in w for w in warnings)
    assert any("lookup table is out of date" in w for w in warnings)


def test_a_removed_item_that_synonyms_point_at_is_flagged(content_copy):
    page = content_copy / "procedures" / "laser-pigment-removal.md"
    page.write_text(page.read_text().replace("11. Melasma (benign pigmentation disorder).\n", ""))
    warnings = [str(w) for w in drift(load_content(content_copy))]
    assert any("treats 'melasma' as a condition" in w and ":25:" in w for w in warnings)


def test_every_synonym_is_found_by_a_lookup_table_or_annotated_in_a_training_example():
    # The lookup tables find the synonyms of what the page names in any message; an area the page does not
    # name has no table, so only CRFEntityExtractor finds its synonyms, and only if it was trained on them.
    looked_up = {word.casefold() for words in lookup_words().values() for word in words}
    known = looked_up | set().union(*trained_words().values())
    unknown = [word for word, term in synonyms().items() if word != term.casefold() and word not in known]
    assert unknown == []


def test_contraindication_words_stand_for_the_pages_words():
    vocabulary = synonyms()
    assert {vocabulary[word] for word in ("melanoma", "chemotherapy", "eczema", "psoriasis", "inflamed acne")} == {
        "cancer",
        "skin diseases",
    }
    assert vocabulary["breast-feeding"] == "lactation"
    assert vocabulary["acne marks"] == "acne spots"  # marks left by acne are treated; active acne is not


def lookup_words() -> dict[str, list[str]]:
    """Lookup table name → its words, as data/nlu/lookups.yml ships them."""
    tables = yaml.safe_load(LOOKUPS.read_text(encoding="utf-8"))["nlu"]
    return {table["lookup"]: [line[2:] for line in table["examples"].splitlines()] for table in tables}
