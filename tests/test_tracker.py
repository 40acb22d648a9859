"""The tracker the tracker store hands out finds the same applied events as Rasa's own (bot/tracker.py)."""

import random

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker import AppendOnlyTracker

FORM = "consultation_form"

# Each is made anew for every use: a conversation never holds the same event object twice.
EVENT_MAKERS = [
    (30, lambda: UserUttered("does it hurt?", {"name": "pain", "confidence": 0.9})),
    (30, lambda: ActionExecuted("action_listen")),
    (20, lambda: ActionExecuted("action_answer")),
    (20, lambda: BotUttered("A little.")),
    (10, lambda: SlotSet("previous_topic", "pain")),
    (8, lambda: ActionExecuted(FORM)),
    (4, lambda: ActiveLoop(FORM)),
    (4, lambda: ActiveLoop(None)),
    (3, lambda: ActionExecutionRejected(FORM)),
    (4, lambda: UserUtteranceReverted()),
    (2, lambda: ActionReverted()),
    (1, lambda: Restarted()),
    (1, lambda: SessionStarted()),
    (1, lambda: AllSlotsReset()),
    (1, lambda: ActiveLoop("another_form")),  # a form named late: the walk starts again from the first event
]


def _conversation(rng, length):
    weights, makers = zip(*EVENT_MAKERS, strict=True)
    return [rng.choices(makers, weights)[0]() for _ in range(length)]


@pytest.mark.parametrize("seed", range(40))
def test_the_applied_events_are_upstream_s_after_every_event(seed):
    rng = random.Random(seed)
    tracker = AppendOnlyTracker("visitor", [])
    for event in _conversation(rng, 120):
        tracker.update(event)
        if rng.random() < 0.7:  # read some turns more than once, some not at all
            assert tracker.applied_events() == DialogueStateTracker.applied_events(tracker)
    assert tracker.applied_events() == DialogueStateTracker.applied_events(tracker)


def test_a_tracker_read_back_from_its_events_finds_the_same():
    events = _conversation(random.Random(7), 300)
    tracker = AppendOnlyTracker.from_dict("visitor", [event.as_dict() for event in events])
    upstream = DialogueStateTracker.from_dict("visitor", [event.as_dict() for event in events])
    assert [event.as_dict() for event in tracker.applied_events()] == [
        event.as_dict() for event in upstream.applied_events()
    ]


def test_events_cut_at_the_history_limit_are_walked_again():
    tracker = AppendOnlyTracker("visitor", [], max_event_history=5)
    for turn in range(8):
        tracker.update(UserUttered(f"question {turn}"))
        tracker.update(ActionExecuted("action_listen"))
        assert tracker.applied_events() == DialogueStateTracker.applied_events(tracker)


def test_the_callers_may_change_the_list_they_are_given():
    tracker = AppendOnlyTracker("visitor", [])
    tracker.update(UserUttered("hi"))
    tracker.applied_events().clear()
    assert len(tracker.applied_events()) == 1
