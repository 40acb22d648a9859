"""Events read back from the tracker store get the classes Rasa's own lookup gives them."""

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot.event_classes import _resolve_by_walking, resolve_by_type


@pytest.mark.parametrize("event_class", all_subclasses(Event), ids=lambda cls: cls.__name__)
def test_every_event_name_gives_the_class_rasa_gives(event_class):
    assert resolve_by_type(event_class.type_name) is _resolve_by_walking(event_class.type_name)


def test_the_common_events_of_a_turn():
    names = ["user", "bot", "action", "slot"]
    assert [resolve_by_type(name) for name in names] == [UserUttered, BotUttered, ActionExecuted, SlotSet]


def test_an_unknown_name_is_refused_or_gets_the_default_each_time():
    for _ in range(2):
        with pytest.raises(ValueError, match="Unknown event name"):
            resolve_by_type("no_such_event")
        assert resolve_by_type("no_such_event", default=SlotSet) is SlotSet
