"""The fixed rules that escalate complications and personal medical questions."""

from __future__ import annotations

import pytest

from bot.safety import PERSONAL, RED_FLAG, triage


@pytest.mark.parametrize(
    "message",
    [
        "I have blisters after the laser",
        "there's pus coming out of the treated spot",
        "got a fever the day after my session",
        "the redness is spreading since yesterday",
        "pain is getting worse 3 days after the laser",
        "my eye is swollen after the procedure",
        "swelling near my eye since the treatment",
        "the spot is bleeding after the treatment",
        "i think i got burned, skin is raw",
        "hi, the area looks infected",
    ],
)
def test_complications_are_red_flags(message):
    assert triage(message) == RED_FLAG


@pytest.mark.parametrize(
    "message",
    [
        "is my spot cancer?",
        "could this be melanoma",
        "I take isotretinoin, is that ok?",
        "im on antibiotics can i still come",
        "my mole changed shape",
        "my mole itches, can you remove it",
        "a mole on my back bleeds sometimes",
        "what is this dark patch on my cheek",
    ],
)
def test_personal_medical_questions_go_to_a_dermatologist(message):
    assert triage(message) == PERSONAL


@pytest.mark.parametrize(
    "message",
    [
        "is redness normal after the laser?",
        "is it normal to have some swelling for 2 days?",
        "does it burn?",
        "does it hurt?",
        "will it hurt near my eyes?",
        "do you treat spots near the eyes",
        "can you remove moles?",
        "can I do it if I have cancer?",
        "how many sessions do I need",
        "do I need painkillers",
    ],
)
def test_ordinary_questions_are_left_to_the_faq(message):
    assert triage(message) is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("my skin looks burnt where you lasered it", RED_FLAG),
        ("i take methotrexate, is that safe with laser", PERSONAL),
        ("there's a spot on my arm that bleeds by itself", PERSONAL),
        ("any idea what this is? a brown patch on my forehead", PERSONAL),
        ("do i need to take painkillers before", None),
        ("I'm taking time off work, how long is recovery", None),
    ],
)
def test_more_everyday_phrasings(message, expected):
    assert triage(message) == expected
