"""Sending stored consultation requests to staff, until each has arrived: ``bot requests deliver``.

Two routes, each on when its environment variables are set (docs/staff-guide.md):

* a webhook: the request as JSON, POSTed to ``CONSULTATION_WEBHOOK_URL`` (with
  ``Authorization: Bearer $CONSULTATION_WEBHOOK_TOKEN`` when that is set);
  any 2xx answer means it arrived;
* e-mail through ``SMTP_HOST``/``SMTP_PORT`` (STARTTLS unless ``SMTP_STARTTLS=0``;
  TLS from the start on port 465), logging in with ``SMTP_USER``/``SMTP_PASSWORD``
  when set, from ``SMTP_FROM`` to ``SMTP_TO`` (commas between addresses).

Each route is tried until it succeeds, and remembered when it has, so a mailbox
that works is not sent the request again while the webhook is down. A failed
attempt waits ``DELIVERY_RETRY_SECONDS`` (default 30), doubled after each
failure up to ``DELIVERY_MAX_RETRY_SECONDS`` (default 3600). The state lives in
the database beside the request, so a restart carries on where it stopped.
A request can arrive twice (sent, then the process stops before noting it);
its reference tells staff it is the same one.

``bot serve`` runs this loop beside the servers; it polls for new requests
every ``DELIVERY_POLL_SECONDS`` (default 5).
"""

from __future__ import annotations

import logging
import os
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage

import requests

from bot import consultations
from bot.consultations import ConsultationRequest

logger = logging.getLogger(__name__)

WEBHOOK, EMAIL = "webhook", "email"
TIMEOUT_SECONDS = 15


class DeliveryError(Exception):
    """A route did not take the request; the message is safe to log (no personal data)."""


@dataclass(frozen=True)
class Settings:
    webhook_url: str = ""
    webhook_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_to: tuple[str, ...] = ()
    retry_seconds: float = 30.0
    max_retry_seconds: float = 3600.0
    poll_seconds: float = 5.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def number(name: str, default: float) -> float:
            value = environ.get(name, "").strip()
            return float(value) if value else default

        return cls(
            webhook_url=environ.get("CONSULTATION_WEBHOOK_URL", "").strip(),
            webhook_token=environ.get("CONSULTATION_WEBHOOK_TOKEN", "").strip(),
            smtp_host=environ.get("SMTP_HOST", "").strip(),
            smtp_port=int(number("SMTP_PORT", 587)),
            smtp_starttls=environ.get("SMTP_STARTTLS", "1").strip().lower() not in ("0", "false", "no"),
            smtp_user=environ.get("SMTP_USER", "").strip(),
            smtp_password=environ.get("SMTP_PASSWORD", ""),
            smtp_from=environ.get("SMTP_FROM", "").strip(),
            smtp_to=tuple(filter(None, (a.strip() for a in environ.get("SMTP_TO", "").split(",")))),
            retry_seconds=number("DELIVERY_RETRY_SECONDS", 30.0),
            max_retry_seconds=number("DELIVERY_MAX_RETRY_SECONDS", 3600.0),
            poll_seconds=number("DELIVERY_POLL_SECONDS", 5.0),
        )

    def routes(self) -> dict[str, Callable[[ConsultationRequest], None]]:
        """The routes that are set up, by name."""
        routes: dict[str, Callable[[ConsultationRequest], None]] = {}
        if self.webhook_url:
            routes[WEBHOOK] = self.post_webhook
        if self.smtp_host and self.smtp_from and self.smtp_to:
            routes[EMAIL] = self.send_email
        return routes

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure in a row: doubling, up to the maximum."""
        return min(self.retry_seconds * 2 ** max(attempts - 1, 0), self.max_retry_seconds)

    def post_webhook(self, request: ConsultationRequest) -> None:
        headers = {"Authorization": f"Bearer {self.webhook_token}"} if self.webhook_token else {}
        try:
            response = requests.post(self.webhook_url, json=as_json(request), headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise DeliveryError(f"webhook unreachable ({type(error).__name__})") from error
        if not response.ok:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}")

    def send_email(self, request: ConsultationRequest) -> None:
        message = EmailMessage()
        message["Subject"] = f"Consultation request {request.reference}"
        message["From"] = self.smtp_from
        message["To"] = ", ".join(self.smtp_to)
        message.set_content(as_text(request))
        connect = smtplib.SMTP_SSL if self.smtp_port == 465 else smtplib.SMTP
        try:
            with connect(self.smtp_host, self.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.smtp_starttls and connect is smtplib.SMTP:
                    smtp.starttls()
                if self.smtp_user:
                    smtp.login(self.smtp_user, self.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            # Only the error's type: an SMTP refusal can quote the recipient or the sender back.
            raise DeliveryError(f"mail server refused or unreachable ({type(error).__name__})") from error


def as_json(request: ConsultationRequest) -> dict[str, str]:
    return {
        "reference": request.reference,
        "received": _when(request.created_at),
        "name": request.name,
        "contact": request.contact,
        "preferred_time": request.preferred_time,
        "consent_given": _when(request.consent_at),
        "channel": request.channel,
    }


def as_text(request: ConsultationRequest) -> str:
    return (
        f"A visitor asked the assistant for a consultation.\n\n"
        f"Reference: {request.reference}\nReceived: {_when(request.created_at)}\nName: {request.name}\n"
        f"Contact: {request.contact}\nPreferred time: {request.preferred_time}\n"
        f"Consent to use these details for this request: given {_when(request.consent_at)}\n"
        f"Channel: {request.channel or '-'}\n\n"
        f"When it is arranged: python -m bot requests done {request.reference}\n"
    )


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def deliver_due(settings: Settings, now: float | None = None) -> int:
    """One round: every due request to every route it has not reached; returns how many are now delivered."""
    routes = settings.routes()
    delivered = 0
    for request in consultations.due(time.time() if now is None else now):
        sent = {WEBHOOK: request.webhook_sent_at, EMAIL: request.email_sent_at}
        failures = []
        for name, send in routes.items():
            if sent[name] is not None:
                continue
            try:
                send(request)
            except DeliveryError as error:
                failures.append(f"{name}: {error}")
                continue
            sent[name] = time.time()
        changes: dict[str, object] = {"webhook_sent_at": sent[WEBHOOK], "email_sent_at": sent[EMAIL]}
        if failures or not routes:
            attempts = request.attempts + 1
            reason = "; ".join(failures) or "no delivery route is set up (see the staff guide)"
            changes |= {
                "attempts": attempts,
                "next_attempt_at": time.time() + settings.backoff(attempts),
                "last_error": reason,
            }
            logger.warning("Request %s not delivered yet (attempt %d): %s", request.reference, attempts, reason)
        else:
            changes |= {"delivered_at": time.time(), "last_error": ""}
            delivered += 1
            logger.info("Request %s delivered to staff", request.reference)
        consultations.record_attempt(request.id, **changes)
    return delivered


def run_delivery(settings: Settings | None = None) -> int:
    """``bot requests deliver``: deliver due requests every few seconds until stopped."""
    settings = settings or Settings.from_environment()
    if not settings.routes():
        logger.warning(
            "No delivery route is set up: requests are kept for `bot requests list` but reach no one. "
            "Set CONSULTATION_WEBHOOK_URL or SMTP_HOST, SMTP_FROM and SMTP_TO."
        )
    try:
        while True:
            deliver_due(settings)
            time.sleep(settings.poll_seconds)
    except KeyboardInterrupt:
        return 0
