"""A stand-in for the staff's mail server, on loopback: an SMTP sink that keeps what it is sent.

The staff webhook needs no fake of its own: tests.messenger_fakes.FakeApi records
JSON POSTs and answers them with an error on demand. The sink can be stopped
and started again on the same port, to play a mail server that is down.
"""

from __future__ import annotations

import email
import threading
import time
import warnings
from email.message import Message

from bot.servers import free_port

with warnings.catch_warnings():  # deprecated since 3.6 yet in 3.10's standard library; aiosmtpd is not installed
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class SmtpSink:
    """Accepts every message on 127.0.0.1:``port`` while running; ``messages`` holds them, parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self._server: smtpd.SMTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> SmtpSink:
        sink = self

        class Server(smtpd.SMTPServer):
            def process_message(self, peer, mailfrom, rcpttos, data, **kwargs) -> None:
                with sink._lock:
                    sink.messages.append(email.message_from_bytes(data))

        self._map: dict = {}
        self._server = Server(("127.0.0.1", self.port), None, map=self._map, decode_data=False)
        self._thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1, "map": self._map}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down: connections are refused until :meth:`start`."""
        if self._server is not None:
            self._server.close()
            for channel in list(self._map.values()):
                channel.close()
            self._thread.join(timeout=5)
            self._server = None

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, subject_part: str, timeout: float = 60) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received():
                if subject_part in str(message["Subject"]):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail about {subject_part!r} within {timeout:.0f} s; got {len(self.received())}")
