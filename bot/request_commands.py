"""``bot requests list | show ID | done ID | delete ID | deliver``: consultation requests for staff.

``list`` shows the open requests (``--all``: the done ones too) with whether
each has reached staff; ``show`` one in full; ``done`` marks one arranged, so
``list`` stops showing it; ``delete`` removes one when the visitor asks (``bot
purge`` removes those staff have had for longer than the retention period).
``deliver`` is the delivery loop ``bot serve`` runs (bot/staff_delivery.py).
ID is the number or the visitor's reference (C-00042).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime

from bot.report import ReportError


def add_requests_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("requests", help="consultation requests visitors left: list, show, done, deliver")
    actions = parser.add_subparsers(dest="requests_command", required=True)
    listing = actions.add_parser("list", help="the open requests, oldest first")
    listing.add_argument("--all", action="store_true", help="include the requests marked done")
    for name, text in (
        ("show", "one request in full"),
        ("done", "mark a request arranged"),
        ("delete", "delete a request, when the visitor asks"),
    ):
        actions.add_parser(name, help=text).add_argument("id", help="the number or reference, e.g. 42 or C-00042")
    actions.add_parser("deliver", help="send stored requests to staff until stopped (bot serve runs it)")


def run_requests(args: argparse.Namespace) -> int:
    from bot import consultations

    try:
        if args.requests_command == "list":
            return _list(consultations.all_requests(include_done=args.all))
        if args.requests_command == "deliver":
            from bot.staff_delivery import run_delivery

            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
            return run_delivery()
        request_id = consultations.request_id(args.id)
        request = consultations.find(request_id) if request_id is not None else None
        if request is None:
            print(f"No request {args.id!r}: `python -m bot requests list --all` shows them all.", file=sys.stderr)
            return 1
        if args.requests_command == "delete":
            consultations.remove(request.id)
            print(f"{request.reference} deleted.")
            return 0
        if args.requests_command == "done":
            consultations.mark_done(request.id)
            print(f"{request.reference} marked done.")
            return 0
        return _show(request)
    except ReportError as error:
        print(f"Cannot read the requests: {error}", file=sys.stderr)
        return 2


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "-"


def delivery_state(request) -> str:
    if request.delivered_at:
        return f"sent {_when(request.delivered_at)}"
    if request.attempts:
        return f"not sent yet ({request.attempts} attempt(s), next {_when(request.next_attempt_at)})"
    return "waiting to be sent"


def _list(requests: list) -> int:
    if not requests:
        print("No open consultation requests.")
        return 0
    print(f"{'reference':<10} {'received':<16} {'status':<6} {'name':<24} {'contact':<28} delivery")
    for request in requests:
        status = "done" if request.done_at else "open"
        print(
            f"{request.reference:<10} {_when(request.created_at):<16} {status:<6} {request.name[:24]:<24} "
            f"{request.contact[:28]:<28} {delivery_state(request)}"
        )
    return 0


def _show(request) -> int:
    print(
        f"Reference:       {request.reference}\n"
        f"Received:        {_when(request.created_at)} (via {request.channel or 'unknown channel'})\n"
        f"Name:            {request.name}\n"
        f"Contact:         {request.contact}\n"
        f"Preferred time:  {request.preferred_time}\n"
        f"Consent given:   {_when(request.consent_at)}\n"
        f"Delivery:        {delivery_state(request)}\n"
        f"  webhook:       {_when(request.webhook_sent_at)}\n"
        f"  e-mail:        {_when(request.email_sent_at)}\n"
        f"  last problem:  {request.last_error or '-'}\n"
        f"Done:            {_when(request.done_at)}"
    )
    return 0
