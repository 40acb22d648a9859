"""The command line: ``python -m bot check | ask | report | requests | purge | forget | lookups | topics``,
``serve`` and ``prod``."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import requests

from bot.channels.registration import add_telegram_webhook_parser, run_telegram_webhook
from bot.checks import check
from bot.library import DEFAULT_CONTENT_DIR, load_content
from bot.privacy import retention, run_forget, run_purge
from bot.production import add_prod_parser, run_prod
from bot.report import DEFAULT_BELOW, STAFF_PREVIEW_PREFIX, confidence, parse_since, positive_int, run_unanswered
from bot.request_commands import add_requests_parser, run_requests
from bot.servers import API_TOKEN_VARIABLE, api_token, serve
from bot.topic_declarations import write as write_topic_declarations
from bot.vocabulary import LOOKUPS, lookup_yaml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The clinic's FAQ assistant.")
    commands = parser.add_subparsers(dest="command", required=True)

    check_parser = commands.add_parser("check", help="validate the content and its topic mappings")
    check_parser.add_argument("content_dir", nargs="?", type=Path, default=DEFAULT_CONTENT_DIR)
    check_parser.add_argument("--strict", action="store_true", help="fail on warnings too: the check before going live")

    ask_parser = commands.add_parser("ask", help="ask the running assistant, as a staff preview")
    ask_parser.add_argument("question")
    ask_parser.add_argument("--url", default="http://127.0.0.1:5005", help="the Rasa server (default: %(default)s)")

    _add_report_parser(commands)
    add_requests_parser(commands)

    purge_parser = commands.add_parser("purge", help="delete conversations older than the retention period")
    purge_parser.add_argument(
        "--older-than", type=retention, required=True, metavar="DAYS", help="e.g. 30d: last message before then"
    )
    forget_parser = commands.add_parser("forget", help="delete one conversation, when a visitor asks")
    forget_parser.add_argument("sender_id", help="the conversation's id (the widget's session id, the chat's id)")

    lookups_parser = commands.add_parser("lookups", help="regenerate data/nlu/lookups.yml from the pages' lists")
    lookups_parser.add_argument("content_dir", nargs="?", type=Path, default=DEFAULT_CONTENT_DIR)

    commands.add_parser(
        "topics", help="regenerate the topic intents of domain.yml and rules of data/rules.yml from bot.topics.TOPICS"
    )

    add_telegram_webhook_parser(commands)

    serve_parser = commands.add_parser(
        "serve",
        help="run the action server, the Rasa server, the delivery of requests to staff and the demo site until Ctrl-C",
    )
    serve_parser.add_argument("--port", type=int, default=5005)
    serve_parser.add_argument("--actions-port", type=int, default=5055)
    serve_parser.add_argument("--site-port", type=int, default=8000, help="the demo website with the chat widget")

    add_prod_parser(commands)

    args = parser.parse_args(argv)
    if args.command == "check":
        return run_check(args.content_dir, args.strict)
    if args.command == "ask":
        return run_ask(args.question, args.url)
    if args.command == "lookups":
        return write_lookups(args.content_dir)
    if args.command == "topics":
        return write_topics()
    if args.command == "report":
        return run_unanswered(args.since, args.limit, args.below, args.format)
    if args.command == "requests":
        return run_requests(args)
    if args.command == "purge":
        return run_purge(args.older_than)
    if args.command == "forget":
        return run_forget(args.sender_id)
    if args.command == "telegram-webhook":
        return run_telegram_webhook(args)
    if args.command == "prod":
        return run_prod(args)
    return serve(args.port, args.actions_port, args.site_port)


def _add_report_parser(commands: argparse._SubParsersAction) -> None:
    report_parser = commands.add_parser("report", help="reports on what visitors asked")
    reports = report_parser.add_subparsers(dest="report", required=True)
    unanswered = reports.add_parser("unanswered", help="questions that fell back or were answered with low confidence")
    unanswered.add_argument(
        "--since", type=parse_since, default="7d", metavar="PERIOD", help="how far back: 12h, 7d, 2w (default: 7d)"
    )
    unanswered.add_argument("--limit", type=positive_int, default=20, metavar="N", help="groups to show (default: 20)")
    unanswered.add_argument(
        "--below",
        type=confidence,
        default=DEFAULT_BELOW,
        metavar="CONFIDENCE",
        help="count answers under this confidence as unsure (default: %(default)s)",
    )
    unanswered.add_argument(
        "--format", choices=("text", "csv"), default="text", help="a table, or CSV for a spreadsheet (default: text)"
    )


def write_lookups(content_dir: Path) -> int:
    LOOKUPS.write_text(lookup_yaml(load_content(content_dir)), encoding="utf-8")
    print(f"Wrote {LOOKUPS}. Run `make train` so the model learns the new names.")
    return 0


def write_topics() -> int:
    changed = write_topic_declarations()
    for path in changed:
        print(f"Wrote {path}.")
    print(
        "The topic declarations match bot.topics.TOPICS. Give a new topic examples in data/nlu/topics.yml and a "
        "mapping in each page's NAME.topics.yml, then run `python -m bot check` and `make train`."
        if changed
        else "The topic declarations already match bot.topics.TOPICS."
    )
    return 0


def run_check(content_dir: Path, strict: bool = False) -> int:
    """Exit 1 on errors, or with ``strict`` (before going live) on warnings too."""
    problems = check(content_dir)
    for problem in problems:
        print(problem)
    errors = sum(problem.severity == "error" for problem in problems)
    if not problems:
        print(f"{content_dir}: all pages and topic mappings are fine.")
    else:
        print(f"{errors} error(s), {len(problems) - errors} warning(s).")
    if strict and problems and not errors:
        print("--strict: fix the warnings before going live.")
    return 1 if errors or (strict and problems) else 0


def run_ask(question: str, url: str) -> int:
    token = api_token()
    if not token:
        print(
            f"`bot ask` reads the conversation through the assistant's HTTP API, which needs a token: set "
            f"{API_TOKEN_VARIABLE} here to the value the servers were started with (start them with it set)."
        )
        return 2
    sender = f"{STAFF_PREVIEW_PREFIX}{uuid.uuid4().hex[:8]}"
    try:
        replies = requests.post(
            f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": question}, timeout=30
        ).json()
        tracker = requests.get(f"{url}/conversations/{sender}/tracker", params={"token": token}, timeout=30)
    except requests.RequestException as error:
        print(f"Cannot reach the assistant at {url} ({error}). Is it running? Start it with: make run")
        return 2
    if tracker.status_code in (401, 403, 404):
        print(
            f"The assistant at {url} refused the token (HTTP {tracker.status_code}), or runs with its HTTP API "
            f"off: start it and run this with the same {API_TOKEN_VARIABLE}."
        )
        return 2
    events = tracker.json()["events"]
    parsed = next((event["parse_data"] for event in events if event["event"] == "user"), None)
    said = [event for event in events if event["event"] == "bot"]
    for reply in replies:
        print(reply.get("text", ""))
        for button in reply.get("buttons", []):
            print(f"  [{button['title']}]")
    if parsed is None:
        # The input gate (bot/channels/inbound.py) answered it itself (too long, empty, too fast): the
        # message never reached the model, so there is no intent or passage to show.
        print("\nno NLU ran: the input gate answered this message before the model saw it")
        return 0
    metadata = next((event.get("metadata") or {} for event in said if (event.get("metadata") or {}).get("topic")), {})
    intent = parsed.get("intent") or {}
    print(
        f"\nintent: {intent.get('name')}  confidence: {intent.get('confidence', 0):.2f}  "
        f"topic: {metadata.get('topic') or '-'}  passage: {metadata.get('location') or '-'}"
    )
    if intent.get("name") == "nlu_fallback":
        # The fallback's own confidence is just the threshold; staff want the model's best guess.
        guess = next((entry for entry in parsed.get("intent_ranking", []) if entry["name"] != "nlu_fallback"), None)
        if guess:
            print(f"(unsure: the model's best guess was {guess['name']} at {guess['confidence']:.2f})")
    return 0
