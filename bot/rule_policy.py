"""Rasa's RulePolicy, making only the dialogue states its rules can look at: a turn costs the same at the 60th.

To choose the next action, Rasa 3.6's RulePolicy makes a dialogue state for
every action of the conversation so far (``tracker.past_states``), then checks
each rule against the states from the end. A rule looks back only as many
states as it has: past that, ``RulePolicy._is_rule_applicable`` holds any rule
as applicable without reading the state. So every state older than the longest
rule is made for nothing, and making them all is what made a long conversation
slow: on a 60-turn conversation, 10 of the 18 ms a turn grew by (measured with
cProfile, README "Performance").

This policy makes only the states as far back as its longest rule reaches and
leaves the choosing to upstream. The states are upstream's own, made the same
way from the same trackers, so every prediction is the same
(tests/test_rule_policy.py compares both policies turn by turn). The
conversation stays whole everywhere else: in the tracker store, for the
actions and for `bot report`. Upstream, a long conversation slows every turn:
https://github.com/RasaHQ/rasa/issues/3011 ("Tracker gets very big for long conversations").
"""

from __future__ import annotations

import itertools
from typing import Any

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker


def recent_states(tracker: DialogueStateTracker, domain: Domain, count: int) -> list[State]:
    """The last ``count`` of ``tracker.past_states(domain)``, without making the states before them."""
    events = tracker.applied_events()
    # A state is made from the tracker before each action, and from the tracker at the end,
    # as `DialogueStateTracker.generate_all_prior_trackers` hands them to `Domain.states_for_tracker_history`.
    actions = [index for index, event in enumerate(events) if isinstance(event, ActionExecuted)]
    prior = tracker.init_copy()
    applied = 0
    states = []
    for position in [*actions, len(events)][-count:]:
        for event in events[applied:position]:
            prior.update(event)
        applied = position
        # As `Domain.states_for_tracker_history` makes each state when no turn is hidden (RulePolicy hides none).
        states.append(domain._clean_state(domain.get_active_state(prior)))
    return states


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentTurnsRulePolicy(RulePolicy):
    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        states = recent_states(tracker, domain, self._longest_rule())
        # What `MaxHistoryTrackerFeaturizer.prediction_states` does with the states once it has made them.
        states = self.featurizer.slice_state_history(states, self.featurizer.max_history)
        self.featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _longest_rule(self) -> int:
        """How many states back the longest rule looks (training removes rules, so it is read each time)."""
        rule_keys = itertools.chain(self.lookup.get(RULES, {}), self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}))
        return max((len(self._rule_key_to_state(key)) for key in rule_keys), default=1)
