"""Evaluate the trained model on our own held-out questions (tests/evaluation/questions.yml).

Prints intent accuracy by kind of question, the fallback rate on out-of-scope
questions, the rate of *confident wrong answers* (the one a clinic must not
have), the worst confusions, and a sweep of the FallbackClassifier thresholds
so that the values in config.yml can be chosen from figures, not guesses.
Then the held-out conversations (tests/evaluation/conversations.yml): follow-ups
and messages asking two things, read as the channels and the actions read them.
Last, the triage confusion matrix on the triage table
(tests/safety/triage_table.yml): missed complication reports and false alarms; and how
many of the phrasings the rules are known to get wrong (tests/safety/known_gaps.yml) still are.

    .venv/bin/python scripts/evaluate.py [--model models/faq.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot import two_questions
from bot.asked import asked, named_in
from bot.decisions import FALLBACK, OUT_OF_SCOPE, Named, decide, decide_without_topic, likely_topics
from bot.followups import Previous
from bot.library import Content, load_content
from bot.nlu import safe_intent
from bot.safety import RULED_INTENTS, URGENT, Triage, route, triage
from bot.topics import TOPICS
from bot.vocabulary import synonyms

# Quiet TensorFlow and Rasa before they are imported: the figures are the output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("LOG_LEVEL", "ERROR")

PROJECT_DIR = Path(__file__).resolve().parent.parent
QUESTIONS = PROJECT_DIR / "tests" / "evaluation" / "questions.yml"
CONVERSATIONS = PROJECT_DIR / "tests" / "evaluation" / "conversations.yml"
TRIAGE_TABLE = PROJECT_DIR / "tests" / "safety" / "triage_table.yml"
KNOWN_GAPS = PROJECT_DIR / "tests" / "safety" / "known_gaps.yml"
TABLE_DECISIONS = {"report": Triage.REPORT, "question": Triage.QUESTION, "personal": Triage.PERSONAL, "none": None}
DECISION_NAMES = {decision: name for name, decision in TABLE_DECISIONS.items()}
ROUTES = ("urgent", "personal", "not escalated")
# Each ends in the honest "the page doesn't cover that": a form's answers outside the form too (data/rules.yml).
DECLINED = {FALLBACK, OUT_OF_SCOPE, "inform", "affirm", "deny"}


@dataclass(frozen=True)
class Prediction:
    text: str
    kind: str
    style: str  # how a topic or verdict question is put: question, worry, statement, other_words, timing
    expected: str
    expected_entities: dict
    top: str  # the best intent before any threshold
    confidence: float
    margin: float  # top confidence minus the runner-up's
    entities: dict
    final: str  # what the pipeline decided, rules and fallback included
    rule: Triage | None  # what the fixed safety triage decided, if anything
    ranking: tuple[dict, ...]  # the model's intents, best first, without the fallback

    def decided(self, threshold: float, ambiguity: float) -> str:
        """The intent the pipeline would pick with these FallbackClassifier settings."""
        model = FALLBACK if self.confidence < threshold or self.margin < ambiguity else self.top
        # The safety rules run last, as in config.yml: they may override the model and the fallback.
        return safe_intent(self.rule, {"name": model}, list(self.ranking))["name"]


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


async def predict(model: Path, questions: list[dict]) -> list[Prediction]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predictions = []
    for question in questions:
        parsed = await agent.parse_message(question["text"])
        ranking = [entry for entry in parsed.get("intent_ranking", []) if entry["name"] != FALLBACK]
        top, runner_up = ranking[0], (ranking[1] if len(ranking) > 1 else {"confidence": 0.0})
        predictions.append(
            Prediction(
                text=question["text"],
                kind=question["kind"],
                style=question.get("style", "question"),
                expected=question["intent"],
                expected_entities=question.get("entities") or {},
                top=top["name"],
                confidence=top["confidence"],
                margin=top["confidence"] - runner_up["confidence"],
                entities={entity["entity"]: str(entity["value"]) for entity in parsed.get("entities", [])},
                final=parsed["intent"]["name"],
                rule=triage(question["text"]),
                ranking=tuple(ranking),
            )
        )
    return predictions


@cache
def shipped_content() -> Content:
    return load_content(PROJECT_DIR / "content")


def decision_kind(prediction: Prediction, intent: str, entities: dict[str, str]) -> str:
    """What the assistant would decide (yes / not recommended / not on the page / …), as the actions do."""
    content = shipped_content()
    procedure = next(iter(content.procedures.values()))
    named = [Named(kind, value) for kind, value in entities.items()]
    if intent in TOPICS:
        return decide(intent, named, prediction.text, procedure, synonyms()).kind.value
    if intent in DECLINED:  # the honest fallback decides a named contraindication first
        decision = decide_without_topic(named, prediction.text, procedure, synonyms())
        return decision.kind.value if decision else "fallback"
    return intent  # an escalation or small talk: no verdict at all


def correct(prediction: Prediction, decided: str) -> bool:
    if prediction.expected == "out_of_scope":
        return decided in DECLINED
    if decided != prediction.expected:
        return False
    return all(prediction.entities.get(name) == value for name, value in prediction.expected_entities.items())


def scores(predictions: list[Prediction], threshold: float, ambiguity: float) -> dict[str, float]:
    in_scope = [p for p in predictions if p.expected != "out_of_scope"]
    out_of_scope = [p for p in predictions if p.expected == "out_of_scope"]
    decided = {p.text: p.decided(threshold, ambiguity) for p in predictions}
    confident_wrong = [p for p in in_scope if decided[p.text] not in DECLINED and decided[p.text] != p.expected]
    return {
        "accuracy": sum(correct(p, decided[p.text]) for p in predictions) / len(predictions),
        "in_scope_answered_right": sum(decided[p.text] == p.expected for p in in_scope) / len(in_scope),
        "out_of_scope_declined": sum(decided[p.text] in DECLINED for p in out_of_scope) / max(len(out_of_scope), 1),
        "confident_wrong": len(confident_wrong) / len(in_scope),
        "in_scope_fallback": sum(decided[p.text] in DECLINED for p in in_scope) / len(in_scope),
    }


def report(predictions: list[Prediction], threshold: float, ambiguity: float, verbose: bool = False) -> None:
    print(f"{len(predictions)} held-out questions; FallbackClassifier threshold {threshold}, ambiguity {ambiguity}\n")
    print(f"{'kind':<18}{'questions':>10}{'correct':>10}")
    by_kind: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        by_kind.setdefault(prediction.kind, []).append(prediction)
    for kind, group in sorted(by_kind.items()):
        right = sum(correct(p, p.decided(threshold, ambiguity)) for p in group)
        print(f"{kind:<18}{len(group):>10}{right / len(group):>10.1%}")
    style_report(predictions, threshold, ambiguity)
    figures = scores(predictions, threshold, ambiguity)
    print(f"\noverall accuracy                       {figures['accuracy']:.1%}")
    print(f"in-scope questions answered right      {figures['in_scope_answered_right']:.1%}")
    print(f"in-scope questions sent to fallback    {figures['in_scope_fallback']:.1%}")
    print(f"in-scope questions answered WRONGLY    {figures['confident_wrong']:.1%}   (confident wrong answers)")
    print(f"out-of-scope questions declined        {figures['out_of_scope_declined']:.1%}")
    verdicts = [p for p in predictions if p.kind == "verdict"]
    if verdicts:
        same = sum(
            decision_kind(p, p.decided(threshold, ambiguity), p.entities)
            == decision_kind(p, p.expected, p.expected_entities)
            for p in verdicts
        )
        print(
            f"verdicts decided right                 {same / len(verdicts):.1%}   "
            "(the yes / not recommended / not on the page / dermatologist a visitor reads)"
        )
    contraindicated = [p for p in predictions if decision_kind(p, p.expected, p.expected_entities) == "not_recommended"]
    said_yes = [
        p.text for p in contraindicated if decision_kind(p, p.decided(threshold, ambiguity), p.entities) == "yes"
    ]
    print(f"contraindications answered yes         {len(said_yes)} of {len(contraindicated)}   {said_yes or ''}")

    confusions = Counter(
        (p.expected, p.decided(threshold, ambiguity))
        for p in predictions
        if not correct(p, p.decided(threshold, ambiguity))
    )
    if verbose:
        print("\nevery miss (expected → decided, confidence): text")
        for p in predictions:
            if not correct(p, p.decided(threshold, ambiguity)):
                print(
                    f"  {p.expected} → {p.decided(threshold, ambiguity)} ({p.top} {p.confidence:.2f}) "
                    f"{p.entities or ''}: {p.text}"
                )
    print("\nworst confusions (expected → decided: count)")
    for (expected, decided), count in confusions.most_common(10):
        # The same intent on both sides is a miss of the named thing ("dark marks from pimples" not read as acne spots).
        examples = [
            p.text
            for p in predictions
            if (p.expected, p.decided(threshold, ambiguity)) == (expected, decided)
            and not correct(p, p.decided(threshold, ambiguity))
        ]
        print(f"  {expected} → {decided}: {count}   e.g. {examples[0]!r}")

    print(
        "\nthreshold sweep (ambiguity 0.1): threshold, accuracy, confident wrong, out-of-scope declined, "
        "in-scope fallback"
    )
    for candidate in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        print_row(f"{candidate:.1f}", scores(predictions, candidate, ambiguity))
    print(f"\nambiguity sweep (threshold {threshold}): ambiguity, same columns")
    for candidate in (0.0, 0.05, 0.1, 0.2, 0.3):
        print_row(f"{candidate:.2f}", scores(predictions, threshold, candidate))


def style_report(predictions: list[Prediction], threshold: float, ambiguity: float) -> None:
    """Topic and verdict questions by how they are put: right, wrong topic, declined (fallback)."""
    by_style: dict[str, list[Prediction]] = {}
    for prediction in predictions:
        if prediction.kind in ("topic", "verdict"):
            by_style.setdefault(prediction.style, []).append(prediction)
    print(f"\n{'style (topic+verdict)':<22}{'questions':>10}{'correct':>10}{'wrong topic':>13}{'fallback':>10}")
    everything = [p for group in by_style.values() for p in group]
    for style, group in [*sorted(by_style.items()), ("all", everything)]:
        decided = [p.decided(threshold, ambiguity) for p in group]
        right = sum(correct(p, intent) for p, intent in zip(group, decided, strict=True))
        declined = sum(intent in DECLINED for intent in decided)
        wrong = sum(intent not in DECLINED and intent != p.expected for p, intent in zip(group, decided, strict=True))
        share = len(group)
        print(f"{style:<22}{share:>10}{right / share:>10.1%}{wrong / share:>13.1%}{declined / share:>10.1%}")


def did_you_mean_report(predictions: list[Prediction], threshold: float, ambiguity: float) -> None:
    """How often "did you mean" offers the right topic to the questions that fall back, for each ``likely``."""
    procedure = next(iter(shipped_content().procedures.values()))
    fell_back = [p for p in predictions if p.decided(threshold, ambiguity) == FALLBACK]
    unsure = [p for p in fell_back if p.expected != "out_of_scope"]
    out_of_scope = [p for p in fell_back if p.expected == "out_of_scope"]
    print(
        f'\n"did you mean" on the {len(unsure)} in-scope and {len(out_of_scope)} out-of-scope questions that fall '
        "back: likely (at least), in-scope offered, right topic offered, offered without the right one, "
        "out-of-scope offered"
    )
    for likely in (0.1, 0.15, 0.2, 0.25, 0.3):
        offers = {
            p.text: likely_topics([{"name": FALLBACK}, *p.ranking], procedure.passages, likely) for p in fell_back
        }
        offered = [p for p in unsure if offers[p.text]]
        right = sum(p.expected in offers[p.text] for p in offered)
        declined = sum(bool(offers[p.text]) for p in out_of_scope)
        share, other = max(len(unsure), 1), max(len(out_of_scope), 1)
        print(
            f"  {likely:<5} {len(offered) / share:6.1%}  {right / share:6.1%}  {(len(offered) - right) / share:6.1%}"
            f"  {declined / other:6.1%}"
        )


async def last_answer(agent, turns: list[str]) -> tuple[str, ...]:
    """The topics the last turn is answered with, each turn read as the channels and the actions read it."""
    previous, answered = None, ()
    for text in turns:
        parsed = await agent.parse_message(text)
        intent = parsed["intent"]["name"]
        if intent not in TOPICS and intent not in DECLINED:
            answered = (intent,)  # an escalation or small talk: its own answer, never a follow-up
            continue
        questions = await two_questions.questions_of(text, agent.parse_message, TOPICS)
        reading = asked(intent, questions, previous, named_in(parsed), text, TOPICS)
        answered = reading.topics
        if reading.topics:
            previous = Previous(reading.topics[-1], reading.named)
    return answered


async def conversation_outcomes(model: Path, conversations: list[dict]) -> list[tuple[dict, tuple[str, ...]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [(item, await last_answer(agent, item["turns"])) for item in conversations]


def conversations_report(outcomes: list[tuple[dict, tuple[str, ...]]], verbose: bool = False) -> None:
    """Right topics, wrong topics and declined, for follow-ups and for messages asking two things."""
    print(f"\nconversations ({CONVERSATIONS.relative_to(PROJECT_DIR)}): the last turn's answer")
    print(f"{'kind':<18}{'items':>10}{'right':>10}{'wrong':>10}{'declined':>10}")
    for kind in sorted({item["kind"] for item, _ in outcomes}):
        group = [(tuple(item["topics"]), got) for item, got in outcomes if item["kind"] == kind]
        right = sum(want == got for want, got in group)
        declined = sum(bool(want) and not got for want, got in group)
        wrong = len(group) - right - declined
        print(
            f"{kind:<18}{len(group):>10}{right / len(group):>10.1%}{wrong / len(group):>10.1%}"
            f"{declined / len(group):>10.1%}"
        )
    if verbose:
        for item, got in outcomes:
            if tuple(item["topics"]) != got:
                print(f"  {item['kind']}: {item['turns']} expected {item['topics']}, answered {list(got)}")


def load_triage_table(path: Path = TRIAGE_TABLE) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


async def assistant_routes(model: Path, rows: list[dict]) -> list[str]:
    """Where the whole NLU pipeline (model, fallback, safety rules) sends each phrasing of the table."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [route((await agent.parse_message(row["text"]))["intent"]["name"]) for row in rows]


def triage_report(rows: list[dict], decided: list[str]) -> None:
    """The confusion matrix of routes (urgent / personal / not escalated): expected by the table x decided."""
    expected = [route(RULED_INTENTS.get(TABLE_DECISIONS[row["decision"]])) for row in rows]
    outcomes = list(zip((row["text"] for row in rows), expected, decided, strict=True))
    matrix = Counter((want, got) for _, want, got in outcomes)
    print(f"\ntriage table: {len(rows)} phrasings (tests/safety/triage_table.yml); rows expected, columns decided")
    print(f"  {'':<15}" + "".join(f"{name:>15}" for name in ROUTES))
    for want in ROUTES:
        print(f"  {want:<15}" + "".join(f"{matrix[(want, got)]:>15}" for got in ROUTES))
    missed = [text for text, want, got in outcomes if want == URGENT != got]
    alarms = [text for text, want, got in outcomes if got == URGENT != want]
    print(f"missed reports {len(missed)}, false alarms {len(alarms)}")
    for text in missed:
        print(f"  missed report: {text}")
    for text in alarms:
        print(f"  false alarm: {text}")


def known_gaps_report(rows: list[dict], verbose: bool = False) -> None:
    """How many of the phrasings the rules are known to get wrong they still do (rules only, as the triage table)."""
    outcomes = [(row["text"], TABLE_DECISIONS[row["decision"]], triage(row["text"])) for row in rows]
    wrong = [(text, want, got) for text, want, got in outcomes if want != got]
    print(f"\nknown gaps (tests/safety/known_gaps.yml): {len(rows)} phrasings, {len(wrong)} still decided otherwise")
    for text, want, got in outcomes:
        if want == got:
            print(f"  now right, move it to the triage table: {text}")
        elif verbose:
            print(f"  {DECISION_NAMES[want]} → {DECISION_NAMES[got]}: {text}")


def print_row(setting: str, row: dict[str, float]) -> None:
    print(
        f"  {setting:<5} {row['accuracy']:6.1%}  {row['confident_wrong']:6.1%}  "
        f"{row['out_of_scope_declined']:6.1%}  {row['in_scope_fallback']:6.1%}"
    )


def configured_thresholds(config_file: Path) -> tuple[float, float]:
    config = yaml.safe_load(config_file.read_text())
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    return fallback["threshold"], fallback["ambiguity_threshold"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_DIR / "models" / "faq.tar.gz")
    parser.add_argument(
        "--config", type=Path, default=PROJECT_DIR / "config.yml", help="the model's config (its fallback thresholds)"
    )
    parser.add_argument("--misses", action="store_true", help="list every question the model got wrong")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)  # Rasa's structlog prints every parse otherwise: the figures are the output
    predictions = asyncio.run(predict(args.model, load_questions()))
    thresholds = configured_thresholds(args.config)
    report(predictions, *thresholds, verbose=args.misses)
    did_you_mean_report(predictions, *thresholds)
    conversations = yaml.safe_load(CONVERSATIONS.read_text(encoding="utf-8"))
    conversations_report(asyncio.run(conversation_outcomes(args.model, conversations)), verbose=args.misses)
    rows = load_triage_table()
    triage_report(rows, asyncio.run(assistant_routes(args.model, rows)))
    known_gaps_report(load_triage_table(KNOWN_GAPS), verbose=args.misses)


if __name__ == "__main__":
    main()
