"""Stand-ins for the Telegram Bot API and Meta's Graph API, on loopback, for offline tests.

Each records every call the connectors make and answers as the test says:
normally, never (until reset, to play a slow API) or with an error.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

OK, HANG, FAIL = "ok", "hang", "fail"


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]

    @property
    def method(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class FakeApi:
    """An HTTP server that records JSON POSTs and answers them ``mode``-wise."""

    def __init__(self, result: dict[str, Any] | None = None) -> None:
        self.result = result or {}
        self.mode = OK
        self.failures_left = 0  # calls still to refuse with 503 before answering as ``mode`` says
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Back to answering at once; calls held by HANG are answered now."""
        self._release.set()
        self.mode = OK
        self.failures_left = 0
        self._release = threading.Event()

    def wait_for(self, wanted: Callable[[list[Call]], bool], timeout: float = 60) -> list[Call]:
        """The calls so far, once ``wanted`` holds for them (else an AssertionError with what came)."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.recorded()
            if wanted(calls):
                return calls
            if time.monotonic() > deadline:
                raise AssertionError(f"the expected calls did not come within {timeout:.0f} s; got {calls}")
            time.sleep(0.1)

    def recorded(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def _refuse_this_one(self) -> bool:
        with self._lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return True
            return False

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                fake._record(Call(parts.path, query, json.loads(raw or b"{}")))
                if fake._refuse_this_one():
                    self._answer(503, {"ok": False, "description": "Service Unavailable"})
                    return
                if fake.mode == HANG:
                    fake._release.wait(timeout=120)
                if fake.mode == FAIL:
                    self._answer(502, {"ok": False, "description": "Bad Gateway"})
                else:
                    self._answer(200, {"ok": True, "result": fake.result})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # the tests read calls, not an access log
                pass

        return Handler
