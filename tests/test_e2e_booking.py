"""Consultation requests and the route to a person, end to end over REST.

The real action server, Rasa server and delivery loop (bot/servers.py), with a
fake staff webhook (tests.messenger_fakes.FakeApi) and an SMTP sink
(tests.staff_fakes) on loopback. Decisions are read from the conversation's
tracker and from the database, apart from the wording: which question the form
is asking, what it kept, whether a request was stored and what reached staff.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.servers import API_TOKEN_VARIABLE, Stack, free_port
from tests.conftest import API_TOKEN, CONTENT_DIR, ask, reply_text, run_bot, tracker, tracker_events
from tests.messenger_fakes import FAIL, FakeApi
from tests.staff_fakes import SmtpSink

PHONE = "+44 20 7946 0000"
CLINIC = f"""name: Test Skin Clinic
phone: '{PHONE}'
email: desk@clinic.example
opening_hours: Mon-Sun 00:00-23:59
timezone: UTC
privacy_url: https://clinic.example/privacy
"""
FORM = ("consultation_name", "consultation_contact", "consultation_when", "consultation_consent")
GOOD = {
    "consultation_name": "Zebedee Quiggly",
    "consultation_contact": "zebedee.quiggly@example.org",
    "consultation_when": "Thursday afternoon",
    "consultation_consent": "yes",
}
STAFF_MAILBOX = "desk@clinic.example"


@pytest.fixture(scope="module")
def staff_webhook() -> Iterator[FakeApi]:
    with FakeApi() as api:
        yield api


@pytest.fixture(scope="module")
def mail_server() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("booking")
    content = work / "content"
    shutil.copytree(CONTENT_DIR, content)
    (content / "clinic.yml").write_text(CLINIC, encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def booking_stack(work: Path, staff_webhook: FakeApi, mail_server: SmtpSink) -> Iterator[Stack]:
    servers = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=work / "logs",
        env={
            "CLINIC_CONTENT_DIR": str(work / "content"),
            "TRACKER_DB": str(work / "tracker.db"),
            API_TOKEN_VARIABLE: API_TOKEN,
            "CONSULTATION_WEBHOOK_URL": f"{staff_webhook.url}/staff/requests",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail_server.port),
            "SMTP_STARTTLS": "0",
            "SMTP_FROM": "assistant@clinic.example",
            "SMTP_TO": STAFF_MAILBOX,
            # Fast retries, so "down, then back" takes seconds here; the defaults are 30 s doubling up to an hour.
            "DELIVERY_RETRY_SECONDS": "0.5",
            "DELIVERY_MAX_RETRY_SECONDS": "1",
            "DELIVERY_POLL_SECONDS": "0.2",
        },
    )
    with servers:
        yield servers


@pytest.fixture(autouse=True)
def staff_reachable(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test leaves the webhook answering and the mail server up, even when it failed midway."""
    yield
    if "staff_webhook" in request.fixturenames:
        request.getfixturevalue("staff_webhook").reset()
    if "mail_server" in request.fixturenames:
        sink = request.getfixturevalue("mail_server")
        if sink._server is None:
            sink.start()


def rows(work: Path) -> list[dict]:
    """The stored requests, read straight from the database (not through our code)."""
    with sqlite3.connect(work / "tracker.db") as db:
        db.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in db.execute("SELECT * FROM consultation_requests ORDER BY id")]
        except sqlite3.OperationalError:  # no request was ever stored: the table is made on first use
            return []


def wait_until(check: Callable[[], object], timeout: float = 60, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def form_state(stack: Stack, sender: str) -> tuple[str | None, str | None]:
    """(the active form, the question it is asking)."""
    state = tracker(stack, sender)
    return (state.get("active_loop") or {}).get("name"), state["slots"].get("requested_slot")


def said_metadata(stack: Stack, sender: str) -> list[dict]:
    """What each of the assistant's messages was (topic, decision), in order."""
    return [event.get("metadata") or {} for event in tracker_events(stack, sender) if event["event"] == "bot"]


def bot_decisions(stack: Stack, sender: str) -> list[str]:
    return [said.get("decision") or said.get("topic") or "" for said in said_metadata(stack, sender)]


def start(stack: Stack, sender: str, how: str = "I'd like to book a consultation") -> list[dict]:
    replies = ask(stack, how, sender)
    assert form_state(stack, sender) == ("consultation_form", "consultation_name")
    return replies


def answer_up_to(stack: Stack, sender: str, slot: str, values: dict[str, str] = GOOD) -> None:
    """Start the form and answer every question before ``slot`` well."""
    start(stack, sender)
    for earlier in FORM[: FORM.index(slot)]:
        ask(stack, values[earlier], sender)
    assert form_state(stack, sender) == ("consultation_form", slot)


def book(stack: Stack, values: dict[str, str], sender: str | None = None) -> str:
    """A whole request; returns the reference the visitor was given."""
    sender = sender or uuid.uuid4().hex
    answer_up_to(stack, sender, "consultation_consent", values)
    said = reply_text(ask(stack, values["consultation_consent"], sender))
    assert form_state(stack, sender) == (None, None)
    assert bot_decisions(stack, sender)[-1] == "stored"
    [reference] = [word.strip(".,") for word in said.split() if word.startswith("C-")]
    return reference


def unique(values: dict[str, str] = GOOD) -> dict[str, str]:
    """The good answers with a name no other test uses, to find this test's request."""
    letters = "".join(chr(ord("a") + int(digit)) for digit in str(time.time_ns())[-8:])
    return {**values, "consultation_name": f"Zebedee {letters.capitalize()}"}


# --- Booking and what staff get ------------------------------------------------------------------------------------


def test_a_booked_request_is_stored_delivered_by_webhook_and_mail_and_listed(
    booking_stack, work, staff_webhook, mail_server
):
    values = unique()
    reference = book(booking_stack, values)
    [stored] = [row for row in rows(work) if row["name"] == values["consultation_name"]]
    assert (stored["contact"], stored["preferred_time"]) == (values["consultation_contact"], "Thursday afternoon")
    assert stored["consent_at"] and stored["channel"]

    calls = staff_webhook.wait_for(lambda calls: any(c.body.get("reference") == reference for c in calls))
    [sent] = [call.body for call in calls if call.body.get("reference") == reference]
    assert sent["name"] == values["consultation_name"] and sent["contact"] == values["consultation_contact"]
    assert set(sent) == {"reference", "received", "name", "contact", "preferred_time", "consent_given", "channel"}
    mail = mail_server.wait_for(reference)
    assert mail["To"] == STAFF_MAILBOX and values["consultation_name"] in mail.get_payload()
    wait_until(lambda: next(r for r in rows(work) if r["name"] == values["consultation_name"])["delivered_at"])

    env = {"TRACKER_DB": str(work / "tracker.db")}
    listed = run_bot("requests", "list", **env)
    line = next(line for line in listed.stdout.splitlines() if line.startswith(reference))
    assert values["consultation_name"] in line and "sent" in line
    shown = run_bot("requests", "show", reference, **env)
    assert shown.returncode == 0 and values["consultation_contact"] in shown.stdout
    assert run_bot("requests", "done", reference.lower(), **env).returncode == 0
    assert reference not in run_bot("requests", "list", **env).stdout
    assert reference in run_bot("requests", "list", "--all", **env).stdout
    assert run_bot("requests", "show", "C-99999", **env).returncode == 1


def test_the_consultation_button_and_every_book_a_consultation_answer_start_the_form(booking_stack):
    topic = ask(booking_stack, "do i need a consultation before the laser?")
    assert {"title": "Book a consultation", "payload": "/book_consultation"} in topic[0]["buttons"]
    start(booking_stack, uuid.uuid4().hex, "/book_consultation")


# --- Each answer checked: kept, or asked again ---------------------------------------------------------------------

# (question, answer, kept?) — decisions only; bot/booking.py's table has the reasons' cases.
ANSWERS = [
    ("consultation_name", "Anna Smith", True),
    ("consultation_name", "my number is 0123456789", False),
    ("consultation_name", "Siobh\u00e1n O\u2019Brien", True),
    ("consultation_contact", "+44 (0)20 7946 0958", True),
    ("consultation_contact", "anna@example.com", True),
    ("consultation_contact", "anna at example dot com", False),
    ("consultation_contact", "123", False),
    ("consultation_when", "next Monday after 4pm", True),
    ("consultation_when", "I'm not sure", False),
    ("consultation_when", "i don't know", False),  # a hedge, not "cancel"
    ("consultation_when", "x" * 300, False),
    ("consultation_consent", "Yes, I agree", True),
    ("consultation_consent", "no", False),
    ("consultation_consent", '/consultation_consent{"consultation_consent": "yes"}', False),
    # Asking to book while booking: the request carries on, the same question asked again.
    ("consultation_when", "can i book a consultation", False),
    ("consultation_consent", "i'd like to book an appointment please", False),
]


@pytest.mark.parametrize(("slot", "answer", "kept"), ANSWERS)
def test_each_answer_is_kept_or_the_question_asked_again(booking_stack, work, slot, answer, kept):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, slot)
    stored_before = len(rows(work))
    replies = ask(booking_stack, answer, sender)
    active, asking = form_state(booking_stack, sender)
    if not kept:
        assert (active, asking) == ("consultation_form", slot)
        assert len(replies) == 2  # the reason, then the same question again
        assert tracker(booking_stack, sender)["slots"][slot] is None
    elif slot == FORM[-1]:
        assert (active, asking) == (None, None) and len(rows(work)) == stored_before + 1
    else:
        assert (active, asking) == ("consultation_form", FORM[FORM.index(slot) + 1])
        assert tracker(booking_stack, sender)["slots"][slot]
    if slot != FORM[-1] or not kept:
        assert len(rows(work)) == stored_before


# Answers written for this test (in no training file), as visitors type them: each must be taken as an answer,
# never as "cancel" or "talk to a person", which would end the form or leave the question unanswered.
HELD_OUT_ANSWERS = {
    "consultation_name": [
        "Zebedee Quiggly",
        "Bartholomew",
        "Ngozi Okonkwo",
        "Anastasia Volkova-Smith",
        "Xu Ming",
        "Rafael Nadal Parera",
        "Mrs Patel",
        "Connor",
        "Mary Pain",  # a name the model may read as the pain topic
    ],
    "consultation_contact": [
        "zebedee.quiggly@example.org",
        "07700 900 777",
        "+33 6 12 34 56 78",
        "rnp@example.es",
    ],
    "consultation_when": ["Thursday afternoon", "any morning next week", "after work, around 6pm", "sunday"],
    "consultation_consent": ["yes", "Yes I agree", "sure, go ahead"],
}


@pytest.mark.parametrize(
    ("slot", "answer"), [(slot, answer) for slot, answers in HELD_OUT_ANSWERS.items() for answer in answers]
)
def test_a_plain_answer_is_never_taken_for_leaving_the_form(booking_stack, slot, answer):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, slot)
    before = len(said_metadata(booking_stack, sender))
    ask(booking_stack, answer, sender)
    replies = said_metadata(booking_stack, sender)[before:]
    assert not {said.get("topic") for said in replies} & {"talk_to_person", "consultation_cancelled"}
    assert form_state(booking_stack, sender)[1] != slot  # kept: the form moved on (or ended with the request)


# --- Leaving, a person, a worry: at any step -----------------------------------------------------------------------


@pytest.mark.parametrize("slot", FORM)
@pytest.mark.parametrize("how", ["cancel", "never mind"])
def test_cancel_leaves_the_form_at_every_step_and_keeps_nothing(booking_stack, work, slot, how):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, slot)
    stored_before = len(rows(work))
    ask(booking_stack, how, sender)
    assert form_state(booking_stack, sender) == (None, None)
    assert bot_decisions(booking_stack, sender)[-1] == "cancelled"
    assert all(tracker(booking_stack, sender)["slots"][name] is None for name in FORM)
    assert len(rows(work)) == stored_before
    # And the assistant answers questions again.
    assert bot_decisions(booking_stack, sender) and ask(booking_stack, "how many sessions will I need?", sender)
    assert form_state(booking_stack, sender) == (None, None)


@pytest.mark.parametrize("slot", FORM)
@pytest.mark.parametrize("how", ["can I talk to a human?", "/talk_to_person"])
def test_a_person_is_reachable_mid_form_and_the_form_carries_on(booking_stack, slot, how):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, slot)
    said = reply_text(ask(booking_stack, how, sender))
    assert PHONE in said and "desk@clinic.example" in said
    assert form_state(booking_stack, sender) == ("consultation_form", slot)
    assert tracker(booking_stack, sender)["slots"][slot] is None  # the request for a person is not an answer


@pytest.mark.parametrize("slot", FORM)
@pytest.mark.parametrize(("question", "topic"), [("does it hurt", "pain"), ("how long is the recovery?", "recovery")])
def test_a_question_of_the_page_mid_form_is_answered_and_the_question_asked_again(booking_stack, slot, question, topic):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, slot)
    before = len(said_metadata(booking_stack, sender))
    ask(booking_stack, question, sender)
    assert topic in {said.get("topic") for said in said_metadata(booking_stack, sender)[before:]}
    assert form_state(booking_stack, sender) == ("consultation_form", slot)
    assert tracker(booking_stack, sender)["slots"][slot] is None  # the question is not kept as the answer
    ask(booking_stack, GOOD[slot], sender)
    assert form_state(booking_stack, sender)[1] != slot  # and the answer after it is


def test_a_complication_reported_mid_form_goes_to_the_clinic_first(booking_stack):
    sender = uuid.uuid4().hex
    answer_up_to(booking_stack, sender, "consultation_when")
    ask(booking_stack, "since the session my cheek is oozing pus and I have a fever", sender)
    assert "report_complication" in bot_decisions(booking_stack, sender)
    assert form_state(booking_stack, sender) == ("consultation_form", "consultation_when")


@pytest.mark.parametrize("how", ["talk to a person", "I want to speak to a real human", "operator", "humna pls"])
def test_a_person_is_reachable_from_the_start_with_contacts_and_opening(booking_stack, how):
    sender = uuid.uuid4().hex
    said = reply_text(ask(booking_stack, how, sender))
    assert PHONE in said and "desk@clinic.example" in said
    # Open every day 00:00-23:59 UTC: someone is there, except in the last minute of a day.
    if time.gmtime().tm_hour * 60 + time.gmtime().tm_min < 23 * 60 + 58:
        assert bot_decisions(booking_stack, sender)[-1] == "open"


def test_every_fallback_offers_a_person(booking_stack):
    replies = ask(booking_stack, "what is the capital of peru?")
    assert {"title": "Talk to a person", "payload": "/talk_to_person"} in replies[-1]["buttons"]


# --- Nothing lost ------------------------------------------------------------------------------------------------


def test_delivery_down_then_back_retries_with_backoff_until_staff_have_it(
    booking_stack, work, staff_webhook, mail_server
):
    staff_webhook.mode = FAIL
    mail_server.stop()
    values = unique()
    reference = book(booking_stack, values)

    def mine() -> dict:
        return next(row for row in rows(work) if row["name"] == values["consultation_name"])

    failing = wait_until(lambda: mine()["attempts"] >= 3 and mine(), what="three failed attempts")
    assert failing["delivered_at"] is None and "webhook answered HTTP 502" in failing["last_error"]
    assert "mail server" in failing["last_error"]
    assert values["consultation_name"] not in failing["last_error"]
    staff_webhook.reset()
    mail_server.start()
    mail_server.wait_for(reference)
    staff_webhook.wait_for(lambda calls: any(c.body.get("reference") == reference for c in calls))
    delivered = wait_until(lambda: mine()["delivered_at"] and mine(), what="delivered")
    assert delivered["webhook_sent_at"] and delivered["email_sent_at"] and not delivered["last_error"]


def test_a_request_stored_while_delivery_is_stopped_is_delivered_after_the_restart(booking_stack, work, staff_webhook):
    booking_stack.stop_delivery()
    try:
        values = unique()
        reference = book(booking_stack, values)
        [stored] = [row for row in rows(work) if row["name"] == values["consultation_name"]]
        assert stored["delivered_at"] is None and stored["attempts"] == 0
        assert not any(call.body.get("reference") == reference for call in staff_webhook.recorded())
    finally:
        booking_stack.start_delivery()
    staff_webhook.wait_for(lambda calls: any(c.body.get("reference") == reference for c in calls))


def test_the_details_given_never_reach_the_logs(booking_stack, work):
    values = unique({**GOOD, "consultation_contact": "+44 7700 900123"})
    book(booking_stack, values)
    time.sleep(1)  # the delivery loop's lines for this request
    logs = "\n".join(path.read_text(errors="replace") for path in (work / "logs").glob("*.log"))
    assert "Consultation request C-" in logs  # the logs are there, and name the request by reference
    for detail in (values["consultation_name"], "7700 900123", "+447700900123", GOOD["consultation_contact"]):
        assert detail not in logs
