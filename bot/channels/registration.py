"""``python -m bot telegram-webhook``: tell Telegram where to deliver the bot's messages.

Kept apart from the channel (no Rasa import) so the command starts at once.
Telegram requires an https URL, and the secret token registered here is the
one the webhook then checks on every update.
"""

from __future__ import annotations

import argparse
from typing import Any

import requests

from bot.channels.settings import NotConfigured, TelegramSettings

ALLOWED_UPDATES = ["message", "callback_query"]  # typed messages and button presses; nothing else is answered


def add_telegram_webhook_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "telegram-webhook",
        help="register the Telegram webhook (or show or delete it)",
        description="Uses TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET from the environment. "
        "Without options, shows what Telegram has registered.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--url", help="the public https address of /webhooks/telegram/webhook")
    action.add_argument("--delete", action="store_true", help="stop Telegram from delivering updates")


def run_telegram_webhook(args: argparse.Namespace) -> int:
    try:
        settings = TelegramSettings.from_environment()
    except NotConfigured as off:
        print(f"Cannot talk to Telegram: {off}.")
        return 2
    if args.url and not args.url.startswith("https://"):
        print("Telegram delivers only to https addresses: pass the public https URL of /webhooks/telegram/webhook.")
        return 2
    api = TelegramApi(settings)
    try:
        if args.url:
            bot = api.call("getMe")
            api.call("setWebhook", url=args.url, secret_token=settings.secret, allowed_updates=ALLOWED_UPDATES)
            print(f"Telegram now delivers messages for @{bot.get('username')} to {args.url}")
        elif args.delete:
            api.call("deleteWebhook")
            print("Telegram no longer delivers messages to a webhook.")
        else:
            print(describe(api.call("getWebhookInfo")))
    except TelegramError as error:
        print(f"Telegram said no: {error}")
        return 1
    return 0


def describe(info: dict[str, Any]) -> str:
    if not info.get("url"):
        return "No webhook is registered: run  python -m bot telegram-webhook --url https://…/webhooks/telegram/webhook"
    lines = [f"Webhook: {info['url']}", f"Updates waiting: {info.get('pending_update_count', 0)}"]
    if info.get("last_error_message"):
        lines.append(f"Last delivery error: {info['last_error_message']}")
    return "\n".join(lines)


class TelegramError(Exception):
    pass


class TelegramApi:
    """Synchronous Bot API calls for the command line; errors never show the token."""

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        url = f"{self.settings.api_url}/bot{self.settings.token}/{method}"
        try:
            reply = requests.post(url, json=params, timeout=30)
            body = reply.json()
        except (requests.RequestException, ValueError) as error:
            raise TelegramError(str(error).replace(self.settings.token, "<token>")) from None
        if not body.get("ok"):
            raise TelegramError(body.get("description") or f"HTTP {reply.status_code}")
        return body.get("result") if isinstance(body.get("result"), dict) else {}
