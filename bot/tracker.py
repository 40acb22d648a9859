"""Rasa's tracker, working out its applied events only for the events added since it last did.

Rasa 3.6 reads ``DialogueStateTracker.applied_events()`` (the conversation
without what was reverted, restarted, or repeated inside a form) several times
a turn: the processor to see whether a session has begun, RulePolicy for its
dialogue states (bot/rule_policy.py), ``get_last_event_for``. Each reading walks
every event from the first: at turn 300 of a conversation, a third of a turn
(README "Performance"). The tracker store hands out these trackers and keeps
them between a conversation's turns (bot/tracker_store.py), and a tracker only
ever has events added at its end, so this one remembers how far it walked and
what it found, and walks on from there. When its events are not the ones it
walked (replaced, or cut at ``max_event_history``), or a form is named that
was not before (a form's name changes how its earlier steps read), it walks
from the first event as upstream does. tests/test_tracker.py compares both
after every event of many conversations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker


@dataclass(frozen=True)
class _Walked:
    events: int  # how many of the tracker's events were walked
    last: Event | None  # the last of them, to tell that they are still the same
    loop_names: frozenset[str]
    applied: list[Event]


def _loop_names(events: list[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


class AppendOnlyTracker(DialogueStateTracker):
    _walked: _Walked | None = None

    def applied_events(self) -> list[Event]:
        walked = self._walked
        if walked is not None and not self._still_has(walked):
            walked = None
        added = list(itertools.islice(self.events, walked.events if walked else 0, None))
        loop_names = frozenset(_loop_names(added) | (walked.loop_names if walked else set()))
        if walked is None or loop_names != walked.loop_names:
            applied = super().applied_events()
        else:
            applied = walked.applied
            for event in added:
                self._walk(event, applied, loop_names)
        self._walked = _Walked(len(self.events), self.events[-1] if self.events else None, loop_names, applied)
        return list(applied)  # the callers' to change, as upstream's list is

    def _still_has(self, walked: _Walked) -> bool:
        if len(self.events) < walked.events:
            return False
        return walked.events == 0 or self.events[walked.events - 1] is walked.last

    def _walk(self, event: Event, applied: list[Event], loop_names: frozenset[str]) -> None:
        """Upstream's ``applied_events`` for one more event."""
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
