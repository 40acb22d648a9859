"""Keeping visitors' personal data out of the servers' logs.

Visitors type phone numbers, e-mail addresses and health details. None of it
may reach a log file, whichever library writes the line: our channels, Rasa
(stdlib logging and structlog), Rasa SDK, Sanic. So redaction is not left to
each call site:

* every log record any logger creates passes :class:`RedactPersonalData`, which
  replaces phone numbers and e-mail addresses in the message and in the
  traceback (installed as a record factory, because a filter on a logger misses
  records of its children, and one on a handler misses handlers made later, such
  as Sanic's);
* Rasa's structlog events lose their message-text fields above debug level, and
  exceptions are rendered as plain tracebacks: Rasa 3.6's renderers (rich in a
  terminal, ``dict_tracebacks`` otherwise) print every frame's local variables,
  which hold the visitor's message.

Both servers run our code (the Rasa server our channels and NLU component, the
action server our actions), and all of it lives in the ``bot`` package, whose
``__init__`` calls :func:`install`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from typing import Any

# Seven or more digits, maybe grouped by single spaces, dots, dashes or brackets; not an ISO date, and not
# a column of figures such as the confusion matrix `rasa test` logs ("[[ 5  0  0  0  0  0  0]").
PHONE = re.compile(r"(?<![\w+(])(?!\d{4}-\d\d-\d\d)\+?\(?\d(?:(?:[.-]|\)? ?|\s?\()?\d){6,}(?!\w)")
EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Structlog fields in which Rasa logs what a visitor or the assistant said (from rasa.utils.log_utils).
TEXT_FIELDS = frozenset(
    {"text", "response_text", "user_text", "parse_data_text", "message", "response", "user_message", "json_message"}
)


def redact(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by placeholders."""
    return PHONE.sub("[phone]", EMAIL.sub("[e-mail]", text))


def hashed(user_id: object) -> str:
    """A messenger user id as logs show it: stable, so one chat's lines can be followed, but not the id."""
    return "user-" + hashlib.sha256(str(user_id).encode()).hexdigest()[:12]


class RedactPersonalData(logging.Filter):
    """Replaces phone numbers and e-mail addresses in a record's message and traceback; keeps every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging itself reports it when the record is emitted
            return True
        if (clean := redact(message)) != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def _without_message_text(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: message-text fields dropped unless debugging, tracebacks without local variables."""
    if method != "debug":
        for key in TEXT_FIELDS & event.keys():
            event[key] = "[not logged]"
    exc_info = event.get("exc_info") or method == "exception"
    if exc_info:
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        elif not isinstance(exc_info, tuple):
            exc_info = sys.exc_info()
        event["exception"] = redact(logging.Formatter().formatException(exc_info))
        # False, not absent: structlog's set_exc_info would add it back for logger.exception().
        event["exc_info"] = False
    return event


def install() -> None:
    """Redact every log record from now on, in this process (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return
    redaction = RedactPersonalData()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redaction.filter(record)
        return record

    redacting_factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
    _install_in_structlog()


def _install_in_structlog() -> None:
    try:
        import structlog
    except ImportError:
        return
    if not structlog.is_configured():
        return
    # Changed in place: loggers Rasa has already used keep a reference to this very list.
    processors = structlog.get_config()["processors"]
    if _without_message_text not in processors:
        processors.insert(0, _without_message_text)
