"""The words the NLU model knows for conditions, kept in step with the page's list.

The page's list of indications is the truth. From it, its contraindications and
data/nlu/synonyms.yml we generate Rasa's lookup tables (``data/nlu/lookups.yml``,
read by RegexEntityExtractor and RegexFeaturizer), and ``bot check``
warns when the trained vocabulary and the page drift apart: a synonym pointing
at a condition the page no longer lists, or a new list item the model has not
been trained on yet (it is still answered, by matching the page's words).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import yaml

from bot import PROJECT_DIR
from bot.content import ContentError
from bot.library import Content, Procedure
from bot.terms import contains, find_unit, item_names, mentions

DATA_DIR = PROJECT_DIR / "data"
LOOKUPS = DATA_DIR / "nlu" / "lookups.yml"
SYNONYMS = DATA_DIR / "nlu" / "synonyms.yml"
# Which topic's passage lists the values of each entity.
ENTITY_PASSAGES = {"condition": "indications", "body_area": "body_areas", "situation": "contraindications"}
_ANNOTATED = re.compile(
    r'\[(?P<text>[^\]]+)\](?:\((?P<plain>\w+)\)|\{"entity":\s*"(?P<kind>\w+)"'
    r'(?:,\s*"value":\s*"(?P<value>[^"]+)")?\})'
)


def listed_conditions(content: Content) -> list[str]:
    """Every name a condition on any page's list of indications can be asked by."""
    names: list[str] = []
    for procedure in content.procedures.values():
        names += [name for name in conditions_of(procedure) if name not in names]
    return names


def conditions_of(procedure: Procedure) -> list[str]:
    """The names of the conditions on one page's list of indications."""
    passage = procedure.passages.get("indications")
    names: list[str] = []
    for unit in passage.units if passage else ():
        if unit.rstrip().endswith(":"):  # the list's lead-in line
            continue
        names += [name.casefold() for name in item_names(unit) if name.casefold() not in names]
    return names


def lookup_yaml(content: Content, synonym_path: Path = SYNONYMS) -> str:
    """Rasa's lookup tables: the conditions the pages list and the situations they rule out, each with every
    way ``synonyms.yml`` knows of writing it, so RegexEntityExtractor finds "acne marks" as surely as
    "acne spots", and "nursing" as surely as "lactation"."""
    vocabulary = synonyms(synonym_path)
    tables = {
        "condition": set(listed_conditions(content)),
        "situation": {term for procedure in content.procedures.values() for term in ruled_out(procedure, vocabulary)},
    }
    blocks = []
    for kind, terms in tables.items():
        names = terms | {word for word, term in vocabulary.items() if term.casefold() in terms}
        # Longest first: in a regex alternation the first that matches wins ("keloid scars" before "keloid").
        items = "\n".join(f"    - {name}" for name in sorted(names, key=lambda name: (-len(name), name)))
        blocks.append(f"- lookup: {kind}\n  examples: |\n{items}\n")
    return (
        'version: "3.1"\n\n# Generated from the pages\' lists of indications and contraindications, with their\n'
        "# synonyms (data/nlu/synonyms.yml), by `python -m bot lookups`.\n"
        "# Do not edit: edit the page or the synonyms, then run that command and `make train`.\n"
        "nlu:\n" + "\n".join(blocks)
    )


def ruled_out(procedure: Procedure, vocabulary: dict[str, str]) -> set[str]:
    """The page words the contraindications passage names, read like a visitor's message (longest first)."""
    passage = procedure.passages.get("contraindications")
    return {mention.term.casefold() for mention in mentions(passage.text, vocabulary)} if passage else set()


def trained_values(data_dir: Path = DATA_DIR) -> dict[str, set[str]]:
    """Entity kind → the canonical values the training data annotates."""
    return _annotations(data_dir, lambda match: match["value"] or match["text"])


def trained_words(data_dir: Path = DATA_DIR) -> dict[str, set[str]]:
    """Entity kind → every wording the training data annotates, synonyms included."""
    return _annotations(data_dir, lambda match: match["text"])


def _annotations(data_dir: Path, pick: Callable[[re.Match], str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (data_dir / "nlu").glob("*.yml"):
        for match in _ANNOTATED.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match["plain"] or match["kind"], set()).add(pick(match).casefold())
    return found


def synonyms(path: Path = SYNONYMS) -> dict[str, str]:
    """What visitors write → the page's word for it (each page word standing for itself too).

    Read on every question, so an edit of the file counts at once; parsed again only when the file
    changes (one ``stat`` a question, as for the content), since parsing costs ~3 ms.
    """
    return _parsed_synonyms(path, path.stat().st_mtime_ns if path.exists() else None)


@lru_cache(maxsize=4)
def _parsed_synonyms(path: Path, modified: int | None) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if modified is not None else {}
    found: dict[str, str] = {}
    for entry in (data or {}).get("nlu", []):
        if "synonym" in entry:
            term = str(entry["synonym"])
            found[term.casefold()] = term
            for line in str(entry.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    found[line.strip()[2:].strip().casefold()] = term
    return found


def synonym_targets(path: Path = SYNONYMS) -> list[str]:
    return list(dict.fromkeys(synonyms(path).values()))


def drift(content: Content, data_dir: Path = DATA_DIR) -> list[ContentError]:
    """Warnings where the pages' words and the trained vocabulary disagree."""
    warnings = []
    trained = trained_values(data_dir)
    targets = {target.casefold() for target in synonym_targets(data_dir / "nlu" / "synonyms.yml")}
    for kind, topic in ENTITY_PASSAGES.items():
        passages = [p.passages[topic] for p in content.procedures.values() if topic in p.passages]
        # With several pages a value need only be named on one of them.
        for value in sorted(trained.get(kind, set()) & targets):
            if passages and all(find_unit(passage, value) is None for passage in passages):
                warnings.append(
                    ContentError(
                        passages[0].page.path,
                        passages[0].line,
                        f"the training data treats '{value}' as a {kind.replace('_', ' ')}, but no '{topic}' passage "
                        "names it any more, so visitors asking about it are told it isn't listed",
                        "if that is intended, remove it from data/nlu/synonyms.yml and run make train",
                    )
                )
    known = trained.get("condition", set()) | trained_words(data_dir).get("condition", set())
    for procedure in content.procedures.values():
        for name in conditions_of(procedure):
            if not any(contains(value, name) or contains(name, value) for value in known):
                warnings.append(
                    ContentError(
                        procedure.page.path,
                        procedure.passages["indications"].line,
                        f"'{name}' is on the list but the model was never trained on it; it is answered by "
                        "matching the page's words",
                        "run `python -m bot lookups` and `make train` to teach the model",
                    )
                )
    lookups = data_dir / "nlu" / "lookups.yml"
    if lookups.exists() and lookups.read_text(encoding="utf-8") != lookup_yaml(content):
        warnings.append(
            ContentError(
                lookups,
                1,
                "the lookup table is out of date with the pages' lists",
                "run `python -m bot lookups` and `make train`",
            )
        )
    return warnings
