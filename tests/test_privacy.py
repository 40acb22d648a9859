"""Personal data: kept no longer than needed, deleted on request, never logged; the visitor knows it is a bot.

Purge and forget run as staff run them (``python -m bot …``) on the real SQL
tracker store the running servers write to.
"""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.answers import urgent
from bot.clinic import Clinic
from bot.logs import hashed, redact
from bot.report import tracker_store
from bot.servers import Stack
from tests.conftest import ask, reply_text, run_bot, tracker_events

DAY = 24 * 3600


def bot(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    """``python -m bot …`` as staff run it, against the stack's tracker store."""
    return run_bot(*args, TRACKER_DB=stack.env["TRACKER_DB"])


def stored_senders(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.setenv("TRACKER_DB", stack.env["TRACKER_DB"])
    with tracker_store() as store:
        return set(asyncio.run(store.keys()))


def store_old_conversation(stack: Stack, monkeypatch: pytest.MonkeyPatch, sender: str, days_ago: int) -> None:
    """A conversation whose every event happened ``days_ago``, written to the store as Rasa writes one."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    at = time.time() - days_ago * DAY
    events = [
        ActionExecuted("action_listen", timestamp=at),
        UserUttered("I'm pregnant, can I have it done?", {"name": "contraindications"}, timestamp=at),
        BotUttered("Not recommended during pregnancy.", timestamp=at + 1),
    ]
    monkeypatch.setenv("TRACKER_DB", stack.env["TRACKER_DB"])
    with tracker_store() as store:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


# --- retention and deletion ----------------------------------------------------------------------------------------


def test_purge_deletes_only_conversations_whose_last_message_is_older(stack, monkeypatch):
    old, recent = f"old-{uuid.uuid4().hex}", f"recent-{uuid.uuid4().hex}"
    store_old_conversation(stack, monkeypatch, old, days_ago=45)
    ask(stack, "does it hurt?", sender=recent)
    assert {old, recent} <= stored_senders(stack, monkeypatch)

    purged = bot(stack, "purge", "--older-than", "30d")

    assert purged.returncode == 0, purged.stderr
    assert "Deleted" in purged.stdout
    senders = stored_senders(stack, monkeypatch)
    assert old not in senders
    assert recent in senders


def test_purge_keeps_a_conversation_with_a_recent_message(stack, monkeypatch):
    returning = f"returning-{uuid.uuid4().hex}"
    store_old_conversation(stack, monkeypatch, returning, days_ago=45)
    ask(stack, "how many sessions do I need?", sender=returning)  # came back today

    assert bot(stack, "purge", "--older-than", "30d").returncode == 0
    assert returning in stored_senders(stack, monkeypatch)


def test_forget_deletes_one_conversation_and_the_visitor_starts_afresh(stack, monkeypatch):
    visitor, other = uuid.uuid4().hex, uuid.uuid4().hex
    ask(stack, "I'm pregnant, can you remove my melasma?", sender=visitor)
    # A second turn: from now on the server keeps this conversation's tracker between turns (bot/tracker_store.py).
    ask(stack, "and after the birth?", sender=visitor)
    ask(stack, "does it hurt?", sender=other)

    forgotten = bot(stack, "forget", visitor)

    assert forgotten.returncode == 0, forgotten.stderr
    senders = stored_senders(stack, monkeypatch)
    assert visitor not in senders and other in senders
    assert [e for e in tracker_events(stack, visitor) if e["event"] == "user"] == []
    ask(stack, "does it hurt?", sender=visitor)
    assert [e["text"] for e in tracker_events(stack, visitor) if e["event"] == "user"] == ["does it hurt?"]


def test_forgetting_an_unknown_conversation_says_so(stack):
    forgotten = bot(stack, "forget", "nobody-" + uuid.uuid4().hex)
    assert forgotten.returncode == 0
    assert "nothing to delete" in forgotten.stdout


@pytest.mark.parametrize("period", ["30", "0d", "a month"])
def test_purge_wants_a_number_of_days(stack, period):
    purged = bot(stack, "purge", "--older-than", period)
    assert purged.returncode == 2
    assert "number of days" in purged.stderr


# --- what the visitor is told --------------------------------------------------------------------------------------


def test_the_greeting_says_it_is_automated_and_links_the_privacy_notice(stack, live_content):
    clinic_file = live_content / "clinic.yml"
    original = clinic_file.read_text()
    try:
        clinic_file.write_text(original.replace("privacy_url:", "privacy_url: https://clinic.example/privacy"))
        greeting = reply_text(ask(stack, "hello"))
    finally:
        clinic_file.write_text(original)
    assert "automated assistant" in greeting and "not a person" in greeting
    assert "https://clinic.example/privacy" in greeting


def test_the_urgent_answer_sends_to_a_doctor_even_without_any_contact_details(stack, shipped):
    assert not (shipped.clinic.phone or shipped.clinic.email), "the shipped clinic.yml sets no contacts"
    for text in (urgent(Clinic()).text, reply_text(ask(stack, "the redness is spreading and I have blisters"))):
        assert "see a doctor or call emergency services" in text
        assert "Phone:" not in text and "Email:" not in text


# --- logs ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("call me on +44 7700 900123 please", "call me on [phone] please"),
        ("my number is (555) 010-0199", "my number is [phone]"),
        ("0612345678", "[phone]"),
        ("write to jane.doe+skin@example.co.uk.", "write to [e-mail]."),
        ("3 to 5 sessions, 4 weeks apart, since 2024-05-01", "3 to 5 sessions, 4 weeks apart, since 2024-05-01"),
        ("Loaded content from /srv/content (2 page(s)) on port 5005", None),
        ("[[ 5  0  0  0  0  0  0  0]\n [ 0 12  0  0  0  0  0  0]]", None),
    ],
)
def test_phone_numbers_and_email_addresses_are_redacted(text, logged):
    assert redact(text) == (logged or text)


def test_every_log_record_is_redacted(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("any.library").info("visitor wrote %s", "jane@example.com, +1 555 010 0199")
    assert caplog.messages == ["visitor wrote [e-mail], [phone]"]


def test_messenger_user_ids_are_hashed_stably():
    assert hashed(123456789) == hashed("123456789") != hashed(123456780)
    assert "123456789" not in hashed(123456789)


RASA_LOGS_A_FAILURE = """
import logging
from rasa.utils.log_utils import configure_structlog
configure_structlog(logging.INFO)  # as `rasa run` does, before it imports our channels and components
import structlog
import bot

def answer(message):
    visitors_message = message  # a local variable Rasa's renderers would print
    raise ValueError("failed")

try:
    answer("I am pregnant, write to " + "jane" + "@example.com")
except ValueError:
    structlog.get_logger().exception("rest.message.received.failure", text="I am pregnant")
structlog.get_logger().info("processor.message", user_text="I am pregnant")
"""


def test_rasa_structlog_events_lose_message_text_and_local_variables():
    logged = subprocess.run(
        [sys.executable, "-c", RASA_LOGS_A_FAILURE], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )
    output = logged.stdout + logged.stderr
    assert "rest.message.received.failure" in output and "ValueError: failed" in output
    assert "pregnant" not in output and "jane@example.com" not in output


def test_no_message_text_phone_or_email_reaches_the_servers_logs(stack):
    digits = "".join(random.choices("0123456789", k=7))
    phone, email = f"+44 7700 {digits}", f"visitor{digits}@example.com"
    marker = f"melasma{digits}"
    ask(stack, f"I'm pregnant, can you remove my {marker}? call me on {phone} or write to {email}")
    ask(stack, f"my email is {email}")
    logs = "\n".join(path.read_text(errors="replace") for path in Path(stack.log_dir).glob("*.log"))
    assert logs, "the servers wrote no logs"
    for secret in (digits, email, marker):
        assert secret not in logs


def test_purge_deletes_the_consultation_requests_staff_have_had_and_keeps_the_undelivered(stack, monkeypatch):
    from bot import consultations

    monkeypatch.setenv("TRACKER_DB", stack.env["TRACKER_DB"])
    consultations.engine.cache_clear()  # the requests live in this stack's database
    old = time.time() - 45 * DAY
    delivered = consultations.store("Ann Old", "ann@example.org", "mornings", now=old)
    consultations.record_attempt(delivered, delivered_at=old + 60)
    done = consultations.store("Bo Old", "+44 20 7946 0000", "any day", now=old)
    consultations.mark_done(done, now=old + 3600)
    undelivered = consultations.store("Cy Old", "cy@example.org", "friday", now=old)
    recent = consultations.store("Di New", "di@example.org", "monday")
    consultations.record_attempt(recent, delivered_at=time.time())

    purged = bot(stack, "purge", "--older-than", "30d")

    assert purged.returncode == 0, purged.stderr
    kept = {request.id for request in consultations.all_requests(include_done=True)}
    assert delivered not in kept and done not in kept
    assert {undelivered, recent} <= kept  # an undelivered request is never lost, however old

    deleted = bot(stack, "requests", "delete", consultations.reference(recent))
    assert deleted.returncode == 0, deleted.stderr
    assert consultations.find(recent) is None
    consultations.engine.cache_clear()
