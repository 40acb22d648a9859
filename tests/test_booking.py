"""The consultation request's decisions and the opening hours, as tables apart from their wording."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import answers
from bot.booking import check_consent, check_contact, check_name, check_when, page_question
from bot.cli import main
from bot.clinic import Clinic, load_clinic
from bot.consultations import reference, request_id
from bot.content import ContentError
from bot.hours import parse_hours
from bot.staff_delivery import Settings

# (check, answer, kept as): None means turned away and asked again.
ANSWERS = [
    (check_name, "Anna Smith", "Anna Smith"),
    (check_name, "  Jean-Luc   Picard ", "Jean-Luc Picard"),
    (check_name, "O\u2019Brien", "O\u2019Brien"),
    (check_name, "Jos\u00e9", "Jos\u00e9"),
    (check_name, "Dr. Who", "Dr. Who"),
    (check_name, "anna123", None),
    (check_name, "does it hurt?", None),
    (check_name, "", None),
    (check_name, "Anna " * 20, None),
    (check_name, "a b c d e f", None),
    (check_name, "/restart", None),
    (check_contact, "+44 20 7946 0958", "+442079460958"),
    (check_contact, "0044 20 7946 0958", "+442079460958"),
    (check_contact, "(555) 123-4567", "5551234567"),
    (check_contact, "anna@example.com", "anna@example.com"),
    (check_contact, "anna@", None),
    (check_contact, "a@b@c.com", None),
    (check_contact, "12345", None),
    (check_contact, "1" * 16, None),
    (check_contact, "call me", None),
    (check_contact, "", None),
    (check_when, "Tuesday morning", "Tuesday morning"),
    (check_when, "any weekday after 5pm", "any weekday after 5pm"),
    (check_when, "TOMORROW", "TOMORROW"),
    (check_when, "12/03", "12/03"),
    (check_when, "whenever", "whenever"),
    (check_when, "does it hurt", None),
    (check_when, "tuesday, and my spots have been itching " * 3, None),
    (check_when, "", None),
    (check_consent, "yes", "yes"),
    (check_consent, "Yes, I agree", "yes"),
    (check_consent, "I agree.", "yes"),
    (check_consent, "OK", "yes"),
    (check_consent, "no", None),
    (check_consent, "I don\u2019t agree", None),
    (check_consent, "maybe", None),
    (check_consent, "sure, go ahead", "yes"),
    (check_consent, "of course!", "yes"),
    (check_consent, "not okay", None),
    (check_consent, "yes please call me at 0123456789", None),
]


@pytest.mark.parametrize(("check", "answer", "kept"), ANSWERS)
def test_each_answer_is_kept_or_asked_again_with_a_reason(check, answer, kept):
    checked = check(answer)
    assert checked.value == kept
    assert bool(checked.reason) == (kept is None)  # a turned-away answer always says why


HOURS = "Mon-Fri 09:00-19:00; Sat 10:00-14:00"
# (local time in London, someone there?) Wednesday 25 Nov 2026; Saturday 28; Sunday 29.
OPEN_NOW = [
    (datetime(2026, 11, 25, 8, 59), False),
    (datetime(2026, 11, 25, 9, 0), True),
    (datetime(2026, 11, 25, 18, 59), True),
    (datetime(2026, 11, 25, 19, 0), False),
    (datetime(2026, 11, 28, 11, 0), True),
    (datetime(2026, 11, 28, 14, 30), False),
    (datetime(2026, 11, 29, 12, 0), False),
]


# (the question it answers, the visitor's message, what the model read it as and how sure, a question of the page).
PAGE_QUESTIONS = [
    (check_name, "does it hurt", "pain", 0.99, True),  # a name by its letters, but put as a question
    (check_name, "How long is the recovery?", "recovery", 0.97, True),
    (check_name, "whats the end result like", "results", 0.9, True),
    (check_contact, "how many sessions will i need", "sessions", 0.99, True),  # no contact: a question
    (check_when, "swelling how long", "recovery", 0.98, True),  # no day either
    (check_consent, "is it safe?", "safety", 0.4, True),  # put as a question: a topic however unsure
    (check_consent, "Can you do freckles?", "indications", 0.9, True),
    # Not a day, not put as a question, and the topic not the model's clear reading: a muddled answer.
    (check_when, "I'm not sure", "contraindications", 0.35, False),
    (check_when, "hmm let me think", "pain", 0.5, False),
    (check_when, "swelling how long", "recovery", 0.45, False),
    # Names and days the model may read as a topic are kept as answers.
    (check_name, "Mary Pain", "pain", 0.99, False),
    (check_name, "Rosa", "indications", 0.6, False),
    (check_name, "Summer", "causes", 0.7, False),
    (check_when, "after work, around 6pm", "recovery", 0.8, False),
    (check_when, "any weekday after 5pm", "sessions", 0.8, False),
    (check_consent, "yes", "affirm", 0.99, False),
    # Not read as a topic: the form's own check decides, and its reason is given.
    (check_name, "does it hurt", "inform", 0.9, False),
    (check_when, "what about next week?", "nlu_fallback", 0.3, False),
    # A worry or a personal medical question has its own rule, never answered as a topic here.
    (check_when, "is this swelling normal? it's getting worse", "report_complication", 1.0, False),
    (check_name, "is my mole cancer?", "personal_medical", 1.0, False),
]


@pytest.mark.parametrize(("check", "text", "intent", "confidence", "is_page_question"), PAGE_QUESTIONS)
def test_a_question_of_the_page_instead_of_an_answer_is_told_apart_from_an_answer(
    check, text, intent, confidence, is_page_question
):
    assert page_question(intent, confidence, text, check(text)) is is_page_question


@pytest.mark.parametrize(("local", "open_now"), OPEN_NOW)
def test_someone_is_there_only_within_the_opening_hours(local, open_now):
    clinic = Clinic(opening_hours=HOURS, timezone="Europe/London")
    moment = local.replace(tzinfo=ZoneInfo("Europe/London")).astimezone(timezone.utc)
    assert clinic.open_now(moment) is open_now


def test_opening_hours_are_read_in_the_clinics_time_zone():
    # 08:30 UTC on a Wednesday is 09:30 in Berlin (open) and 03:30 in New York (closed).
    moment = datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc)
    assert Clinic(opening_hours=HOURS, timezone="Europe/Berlin").open_now(moment) is True
    assert Clinic(opening_hours=HOURS, timezone="America/New_York").open_now(moment) is False


def test_without_opening_hours_nobody_claims_the_clinic_is_open_or_closed():
    assert Clinic().open_now() is None
    said = answers.talk_to_person(Clinic(phone="+1 555 0100"))
    assert "+1 555 0100" in said.text and said.decision == ""


def test_a_person_is_offered_with_the_contacts_and_whether_someone_is_there():
    clinic = Clinic(phone="+1 555 0100", email="desk@clinic.example", opening_hours=HOURS, timezone="UTC")
    wednesday_morning = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    said = answers.talk_to_person(clinic, wednesday_morning)
    assert "+1 555 0100" in said.text and "desk@clinic.example" in said.text and said.decision == "open"
    assert answers.talk_to_person(clinic, wednesday_morning.replace(hour=20)).decision == ""
    assert answers.BOOK_BUTTON in said.buttons


def test_every_parseable_opening_hours_is_at_least_one_opening():
    assert len(parse_hours(HOURS)) == 6
    assert len(parse_hours("mon 9:00-12:00, wed 14:00-18:00")) == 2


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("opening_hours: weekdays 9 to 7", "is not 'Day-Day HH:MM-HH:MM'"),
        ("opening_hours: Mon-Fry 09:00-19:00", "'Fry' is not a day"),
        ("opening_hours: Mon 09:00-25:00", "'25:00' is not a time of day"),
        ("opening_hours: Fri-Mon 09:00-19:00", "runs backwards"),
        ("opening_hours: Mon 19:00-09:00", "closes before it opens"),
        ("timezone: Mars/Olympus", "'Mars/Olympus' is not a time zone"),
    ],
)
def test_opening_hours_staff_cannot_read_are_refused_with_line_and_fix(tmp_path, line, says):
    path = tmp_path / "clinic.yml"
    path.write_text(f"name: x\nphone: '1'\n{line}\n")
    with pytest.raises(ContentError) as caught:
        load_clinic(path)
    assert caught.value.line == 3 and says.lower() in str(caught.value).lower() and caught.value.fix


def test_bot_check_names_the_line_of_bad_opening_hours(content_copy, capsys):
    clinic = content_copy / "clinic.yml"
    clinic.write_text(clinic.read_text().replace("opening_hours:", "opening_hours: 9-5 weekdays"))
    assert main(["check", str(content_copy)]) == 1
    out = capsys.readouterr().out
    assert f"{clinic}:" in out and "opening_hours" in out and "Mon-Fri 09:00-19:00" in out


def test_references_read_back_to_their_request():
    assert reference(42) == "C-00042"
    assert [request_id(text) for text in ("C-00042", "c42", " 42 ", "42x", "C-")] == [42, 42, 42, None, None]


def test_retries_back_off_exponentially_up_to_the_maximum():
    settings = Settings(retry_seconds=30, max_retry_seconds=3600)
    assert [settings.backoff(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_a_route_is_on_only_when_its_settings_are_complete():
    assert Settings.from_environment({}).routes() == {}
    webhook = Settings.from_environment({"CONSULTATION_WEBHOOK_URL": "https://staff.example/hook"})
    assert list(webhook.routes()) == ["webhook"]
    half_mail = Settings.from_environment({"SMTP_HOST": "mail.example", "SMTP_TO": "desk@clinic.example"})
    assert half_mail.routes() == {}  # no sender address: not a route that could ever work
