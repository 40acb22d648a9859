"""Opening hours in ``content/clinic.yml``, written so that people and the assistant both read them.

The format, one or more groups separated by ";" or ",":

    opening_hours: Mon-Fri 09:00-19:00; Sat 10:00-14:00

Days are Mon Tue Wed Thu Fri Sat Sun (a range ``Mon-Fri`` or one day), times are
24-hour ``HH:MM``; a day not named is closed. The times are the clinic's local
time, in the ``timezone`` of clinic.yml (an IANA name such as ``Europe/London``;
the server's own time zone when unset). With them the assistant tells a visitor
who asks for a person whether someone is there now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXAMPLE = "Mon-Fri 09:00-19:00; Sat 10:00-14:00"
_GROUP = re.compile(
    r"(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+(?P<opens>\d{1,2}:\d\d)\s*-\s*(?P<closes>\d{1,2}:\d\d)"
)


class HoursError(ValueError):
    """Opening hours that cannot be read; the message says which part."""


@dataclass(frozen=True)
class Opening:
    weekday: int  # Monday is 0, as datetime.weekday() counts
    opens: time
    closes: time


def parse_hours(text: str) -> tuple[Opening, ...]:
    """The openings ``text`` describes, or a :class:`HoursError` naming the part that is wrong."""
    openings: list[Opening] = []
    for group in filter(None, (part.strip() for part in re.split(r"[;,]", text))):
        match = _GROUP.fullmatch(group.lower())
        if not match:
            raise HoursError(f"'{group}' is not 'Day-Day HH:MM-HH:MM'")
        first, last = match["first"], match["last"] or match["first"]
        for day in (first, last):
            if day not in DAYS:
                raise HoursError(f"'{day}' is not a day: write Mon, Tue, Wed, Thu, Fri, Sat or Sun")
        opens, closes = _clock(match["opens"]), _clock(match["closes"])
        if closes <= opens:
            raise HoursError(f"'{group}' closes before it opens")
        start, end = DAYS.index(first), DAYS.index(last)
        if end < start:
            raise HoursError(f"'{group}' runs backwards: write the earlier day first")
        openings.extend(Opening(day, opens, closes) for day in range(start, end + 1))
    if not openings:
        raise HoursError("no opening times are given")
    return tuple(openings)


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 23 or minutes > 59:
        raise HoursError(f"'{text}' is not a time of day: write 24-hour HH:MM, e.g. 09:00 or 18:30")
    return time(hours, minutes)


def time_zone(name: str) -> ZoneInfo | None:
    """The clinic's time zone; None (the server's own) when unset, a :class:`HoursError` when unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HoursError(f"'{name}' is not a time zone: write an IANA name such as Europe/London") from error


def is_open(openings: tuple[Opening, ...], now: datetime) -> bool:
    """Whether ``now`` (in the clinic's time zone) falls in an opening."""
    moment = now.time()
    return any(o.weekday == now.weekday() and o.opens <= moment < o.closes for o in openings)
