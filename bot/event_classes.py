"""Rasa's event classes looked up by name once, not by walking every subclass of ``Event`` for each event.

Each turn the tracker store reads the session's events back, and each one is
turned into its class by ``Event.resolve_by_type`` (rasa/shared/core/events.py
in Rasa 3.6.21), which lists every subclass of ``Event`` and checks each with
``inspect.isabstract`` before comparing names: 5 % of the Rasa server's time
under load, growing with the length of the conversation. The answer for a name
never changes once Rasa is imported, so it is remembered.

Installed by the tracker store (bot/tracker_store.py) when Rasa creates it.
"""

from __future__ import annotations

import functools

from rasa.shared.core.events import Event

_resolve_by_walking = Event.resolve_by_type


@functools.cache
def _class_named(type_name: str) -> type[Event] | None:
    # An unknown name raises ValueError, which functools.cache does not remember.
    return _resolve_by_walking(type_name)


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Upstream's ``Event.resolve_by_type``, with the same answers and errors."""
    try:
        return _class_named(type_name)
    except ValueError:
        if default is not None:
            return default
        raise


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
