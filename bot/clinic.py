"""The clinic's contact details, edited by staff in ``content/clinic.yml``.

A field that is empty or missing is simply not shown: the assistant never
invents a phone number or an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.content import ContentError, line_of_key, load_yaml
from bot.hours import EXAMPLE, HoursError, is_open, parse_hours, time_zone

FIELDS = ("name", "phone", "email", "address", "opening_hours", "timezone", "booking_url", "site_url", "privacy_url")
WEB_ADDRESSES = ("booking_url", "site_url", "privacy_url")
LABELS = {
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
    "opening_hours": "Opening hours",
    "booking_url": "Book online",
}


@dataclass(frozen=True)
class Clinic:
    name: str = "the clinic"
    phone: str = ""
    email: str = ""
    address: str = ""
    opening_hours: str = ""
    timezone: str = ""
    booking_url: str = ""
    site_url: str = ""
    privacy_url: str = ""

    def contact_lines(self) -> list[str]:
        """The contact details that are set, one line each, for messages."""
        return [f"{label}: {getattr(self, name)}" for name, label in LABELS.items() if getattr(self, name)]

    def how_to_contact(self) -> str:
        """One sentence and the details, or just the sentence when nothing is set."""
        lines = self.contact_lines()
        lead = f"Please contact {self.name}"
        return f"{lead}:\n" + "\n".join(lines) if lines else f"{lead} directly."

    def open_now(self, now: datetime | None = None) -> bool | None:
        """Whether someone is at the clinic now; None when the opening hours are not set."""
        if not self.opening_hours:
            return None
        zone = time_zone(self.timezone)
        moment = now.astimezone(zone) if now else datetime.now(zone)
        return is_open(parse_hours(self.opening_hours), moment)

    def page_url(self, slug: str, anchor: str) -> str:
        base = self.site_url.rstrip("/") if self.site_url else ""
        return f"{base}/procedures/{slug}#{anchor}"


def load_clinic(path: Path) -> Clinic:
    if not path.exists():
        return Clinic()
    raw = path.read_text(encoding="utf-8")
    data = load_yaml(path, raw) or {}
    if not isinstance(data, dict):
        raise ContentError(path, 1, "the clinic file must be 'name: value' lines", "copy the shipped layout")
    values = {}
    for key, value in data.items():
        line = line_of_key(raw, str(key))
        if key not in FIELDS:
            raise ContentError(path, line, f"unknown field '{key}'", f"use one of: {', '.join(FIELDS)}")
        if value is None:
            continue
        if not isinstance(value, (str, int)):
            raise ContentError(path, line, f"'{key}' should be one line of text", "write it after the colon, in quotes")
        values[key] = str(value).strip()
    for key in WEB_ADDRESSES:
        if values.get(key) and not re.match(r"https?://", values[key]):
            raise ContentError(path, line_of_key(raw, key), f"'{key}' is not a web address", "start it with https://")
    _check_hours(path, raw, values)
    return Clinic(**values)


def _check_hours(path: Path, raw: str, values: dict[str, str]) -> None:
    """Opening hours and time zone the assistant can read, so "is someone there now?" is answered right."""
    for key, read in (("opening_hours", parse_hours), ("timezone", time_zone)):
        try:
            if values.get(key):
                read(values[key])
        except HoursError as error:
            fix = f"write it like: {EXAMPLE}" if key == "opening_hours" else "e.g. timezone: Europe/London"
            raise ContentError(path, line_of_key(raw, key), f"'{key}': {error}", fix) from error
