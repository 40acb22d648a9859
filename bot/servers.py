"""Starting and stopping the real action server and Rasa server together.

``make run`` and the end-to-end tests use the same code, so what is tested is
what a clinic runs: the same commands, ports chosen by the caller, the same
endpoints and credentials files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float, ready: str = "") -> None:
    """Poll ``url`` until it answers (and its body contains ``ready``), or fail with the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{process.args[0]} exited with code {process.returncode} before {url} answered")
        try:
            response = requests.get(url, timeout=2)
            if response.ok and ready in response.text:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise StartupError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Stack:
    """The action server and the Rasa server, started as child processes."""

    rasa_port: int = 5005
    action_port: int = 5055
    host: str = "127.0.0.1"
    model: Path = PROJECT_DIR / "models"
    credentials: Path = PROJECT_DIR / "credentials.yml"
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{self.action_port}/webhook")
        env.setdefault("TRACKER_DB", str(PROJECT_DIR / "tracker.db"))
        env.setdefault("PYTHONPATH", str(PROJECT_DIR))
        return env

    def start(self, timeout: float = 180) -> Stack:
        env = self.environment()
        actions = self._spawn("actions", [BIN / "rasa", "run", "actions", "--port", str(self.action_port),
                                          "--actions", "actions"], env)
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", actions, timeout)
        rasa = self._spawn("rasa", [BIN / "rasa", "run", "--enable-api", "--interface", self.host,
                                    "--port", str(self.rasa_port), "--model", str(self.model),
                                    "--endpoints", str(PROJECT_DIR / "endpoints.yml"),
                                    "--credentials", str(self.credentials), "--cors", "*"], env)
        wait_until_up(f"{self.url}/status", rasa, timeout, ready="model_file")
        return self

    def _spawn(self, name: str, command: list, env: dict[str, str]) -> subprocess.Popen:
        output = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([str(part) for part in command], cwd=PROJECT_DIR, env=env,
                                   stdout=output, stderr=subprocess.STDOUT if output else None,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(rasa_port: int = 5005, action_port: int = 5055) -> int:
    """Run both servers in the foreground until Ctrl-C (``make run``)."""
    stack = Stack(rasa_port=rasa_port, action_port=action_port)
    print(f"Starting the action server (:{action_port}) and the Rasa server (:{rasa_port}); this takes ~30 s…",
          flush=True)
    try:
        stack.start()
        print(f"\nThe assistant is ready.\n  REST:  curl -s {stack.url}/webhooks/rest/webhook "
              "-d '{\"sender\":\"me\",\"message\":\"how many sessions do I need?\"}'\n"
              "  Staff preview:  .venv/bin/python -m bot ask \"does it hurt?\"\n"
              "Press Ctrl-C to stop both servers.", flush=True)
        while all(process.poll() is None for process in stack.processes):
            time.sleep(1)
        print("A server stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    except StartupError as error:
        print(f"Could not start the assistant: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
