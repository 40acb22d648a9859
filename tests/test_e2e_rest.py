"""End to end over REST: the real Rasa server and action server, answering from the page."""

from __future__ import annotations

from bot.answers import PERSON_BUTTON
from tests.conftest import ask, reply_text, tracker_events


def test_sessions_question_gets_the_pages_answer(stack):
    text = reply_text(ask(stack, "how many sessions do I need?"))
    assert "on average about three to five sessions are required" in text
    assert "Read more: [What does the skin look like after the procedure?]" in text


def test_each_topic_is_answered_from_its_passage(stack):
    questions = {
        "is the procedure safe?": "does not pose any risk to your health",
        "does it hurt": "does not require the use of painkillers",
        "how long is the downtime": "slight swelling or redness of the skin may occur for two to three days",
        "who can't have this treatment": "not recommended during lactation or pregnancy",
        "what are age spots?": "areas of the skin with excess melanin",
        "what causes pigmentation": "hormonal changes, aging",
    }
    for question, words in questions.items():
        assert words in reply_text(ask(stack, question)), question


def test_direct_verdicts_for_named_conditions_areas_and_situations(stack):
    assert reply_text(ask(stack, "can you remove melasma")).startswith(
        "Yes: melasma is one of the conditions this laser treatment is for."
    )
    assert reply_text(ask(stack, "I'm pregnant, can I do it?")).startswith("No: the page lists")
    assert reply_text(ask(stack, "do you treat hands?")).startswith(
        "Yes, the back of the hands is one of the areas we treat."
    )
    assert reply_text(ask(stack, "can you remove a tattoo?")).startswith("The page doesn't list tattoo")


def test_redness_is_recovery_but_spreading_redness_is_urgent(stack):
    assert "two to three days" in reply_text(ask(stack, "is redness normal after the laser?"))
    urgent = reply_text(ask(stack, "the redness is spreading and I have blisters since the laser"))
    assert urgent.startswith("This could be a complication and needs a doctor's attention now.")
    assert "Read more" not in urgent  # no FAQ text mixed into an urgent answer


def test_personal_medical_question_goes_to_a_dermatologist(stack):
    text = reply_text(ask(stack, "my mole changed shape and bleeds, can you remove it?"))
    assert "dermatologist" in text and "not a diagnosis" in text
    assert "Yes" not in text


def test_out_of_scope_gets_the_honest_fallback_with_suggestions(stack):
    sender = "fallback-visitor"
    for question in ("how much does it cost?", "what's your address", "do you do botox?"):
        replies = ask(stack, question, sender)
        assert "page doesn't cover that" in reply_text(replies), question
        buttons = [button for reply in replies for button in reply.get("buttons", [])]
        assert buttons.pop() == PERSON_BUTTON  # a person, always offered last
        assert 3 <= len(buttons) <= 4
    # A suggested question's button works like typing it.
    [sessions] = [button["payload"] for button in buttons if button["payload"].startswith("/sessions")]
    assert "three to five sessions" in reply_text(ask(stack, sessions, sender))


def test_bot_challenge_is_answered_truthfully(stack):
    assert "automated assistant" in reply_text(ask(stack, "am I talking to a real person?"))


def test_content_edit_is_served_live(stack, live_content):
    page = live_content / "procedures" / "laser-pigment-removal.md"
    original = page.read_text()
    try:
        page.write_text(original.replace("about three to five sessions", "about four to six sessions"))
        assert "about four to six sessions" in reply_text(ask(stack, "how many sessions do I need?"))
    finally:
        page.write_text(original)
    assert "three to five sessions" in reply_text(ask(stack, "how many sessions do I need?"))


def test_conversations_are_kept_in_the_tracker_store(stack):
    ask(stack, "does it hurt", sender="kept-visitor")
    events = tracker_events(stack, "kept-visitor")
    assert [e["text"] for e in events if e["event"] == "user"] == ["does it hurt"]
