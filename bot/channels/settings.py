"""The messenger channels' settings, read from environment variables only.

credentials.yml is committed, so no secret may live in it. Rasa's ``${VAR}``
expansion there fails at start-up when a variable is unset, which would stop
the whole assistant for a clinic that uses only one app; so each channel reads
the environment itself, and a channel whose variables are unset is simply off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

TELEGRAM_API = "https://api.telegram.org"
# Meta retires Graph API versions about two years after release and then
# serves the oldest live one instead; raise this when Meta announces a retirement.
GRAPH_API = "https://graph.facebook.com/v23.0"

TELEGRAM_TOKEN = "TELEGRAM_BOT_TOKEN"
TELEGRAM_SECRET = "TELEGRAM_WEBHOOK_SECRET"
TELEGRAM_API_URL = "TELEGRAM_API_URL"
FACEBOOK_PAGE_TOKEN = "FACEBOOK_PAGE_ACCESS_TOKEN"
FACEBOOK_APP_SECRET = "FACEBOOK_APP_SECRET"
FACEBOOK_VERIFY_TOKEN = "FACEBOOK_VERIFY_TOKEN"
FACEBOOK_GRAPH_URL = "FACEBOOK_GRAPH_URL"

# What Telegram accepts as a webhook's secret_token.
TELEGRAM_SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")


class NotConfigured(Exception):
    """A channel is off; the message says which variables to set."""

    def __init__(self, message: str, partly: bool) -> None:
        super().__init__(message)
        self.partly = partly  # some of its variables are set: probably a mistake worth a warning


def required(environ: Mapping[str, str], channel: str, *names: str) -> list[str]:
    """The values of ``names``, or NotConfigured naming those that are unset or empty."""
    values = [environ.get(name, "").strip() for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise NotConfigured(f"the {channel} channel is off: set {', '.join(missing)}", partly=len(missing) < len(names))
    return values


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    secret: str  # sent by Telegram in X-Telegram-Bot-Api-Secret-Token once the webhook is registered with it
    api_url: str = TELEGRAM_API

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> TelegramSettings:
        token, secret = required(environ, "Telegram", TELEGRAM_TOKEN, TELEGRAM_SECRET)
        if not TELEGRAM_SECRET_FORM.fullmatch(secret):
            raise NotConfigured(
                f"the Telegram channel is off: {TELEGRAM_SECRET} may only use the letters A-Z and "
                "a-z, digits, '_' and '-' (at most 256); Telegram refuses anything else",
                partly=True,
            )
        return cls(token, secret, (environ.get(TELEGRAM_API_URL) or TELEGRAM_API).rstrip("/"))


@dataclass(frozen=True)
class FacebookSettings:
    page_token: str
    app_secret: str  # signs every webhook delivery (X-Hub-Signature-256)
    verify_token: str  # chosen by the clinic; Meta repeats it once when the webhook is set up
    graph_url: str = GRAPH_API

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> FacebookSettings:
        values = required(
            environ, "Facebook Messenger", FACEBOOK_PAGE_TOKEN, FACEBOOK_APP_SECRET, FACEBOOK_VERIFY_TOKEN
        )
        return cls(*values, (environ.get(FACEBOOK_GRAPH_URL) or GRAPH_API).rstrip("/"))
