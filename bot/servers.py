"""Starting and stopping the real action server, Rasa server and demo website together.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot import PROJECT_DIR

BIN = Path(sys.executable).parent
# Rasa's HTTP API (conversations, events, model) is on only when this variable holds a token; staff tools send it.
API_TOKEN_VARIABLE = "RASA_API_TOKEN"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StartupError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    """Whether a server already listens on ``port`` (SO_REUSEADDR, as servers set it, so TIME_WAIT is no hindrance)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def api_token(environ: dict[str, str] | os._Environ = os.environ) -> str:
    return environ.get(API_TOKEN_VARIABLE, "").strip()


def wait_until_up(
    url: str, process: subprocess.Popen, timeout: float, ready: str = "", params: dict[str, str] | None = None
) -> None:
    """Poll ``url`` until it answers (and its body contains ``ready``), or fail with the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{process.args[0]} exited with code {process.returncode} before {url} answered")
        try:
            response = requests.get(url, params=params, timeout=2)
            if response.ok and ready in response.text:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise StartupError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Stack:
    """The action server, the Rasa server, the delivery of consultation requests to staff and (given
    ``site_port``) the demo website, as child processes."""

    rasa_port: int = 5005
    action_port: int = 5055
    host: str = "127.0.0.1"
    model: Path = PROJECT_DIR / "models"
    credentials: Path = PROJECT_DIR / "credentials.yml"
    endpoints: Path = PROJECT_DIR / "endpoints.yml"
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    site_port: int | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    _by_name: dict[str, subprocess.Popen] = field(default_factory=dict, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def site_url(self) -> str:
        if self.site_port is None:
            raise ValueError("this stack serves no website: give it a site_port")
        return f"http://{self.host}:{self.site_port}"

    def pid(self, name: str) -> int:
        """The process id of one running server: "actions", "rasa", "delivery" or "site"."""
        return self._by_name[name].pid

    def site_rasa_url(self) -> str:
        """Where the demo website's widget finds the assistant."""
        return self.url

    def rasa_ports(self) -> dict[str, int]:
        """The Rasa server processes to start, by name."""
        return {"rasa": self.rasa_port}

    @property
    def api_token(self) -> str:
        """The token Rasa's HTTP API was started with; empty when the API is off."""
        return api_token(self.environment())

    def ports(self) -> dict[str, int]:
        named = {"the Rasa server (--port)": self.rasa_port, "the action server (--actions-port)": self.action_port}
        if self.site_port is not None:
            named["the demo website (--site-port)"] = self.site_port
        return named

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env.setdefault("ACTION_ENDPOINT_URL", f"http://{self.host}:{self.action_port}/webhook")
        # rasa_sdk 3.6's `rasa run actions` has no --interface option; its run() binds to SANIC_HOST, else 0.0.0.0.
        env.setdefault("SANIC_HOST", self.host)
        env.setdefault("TRACKER_DB", str(PROJECT_DIR / "tracker.db"))
        env.setdefault("PYTHONPATH", str(PROJECT_DIR))
        if self.site_port is not None:
            # The widget on the demo site may talk to this Rasa server, whichever loopback name the browser uses.
            hosts = dict.fromkeys([self.host, "127.0.0.1", "localhost"])
            env.setdefault("WIDGET_ALLOWED_ORIGINS", ",".join(f"http://{host}:{self.site_port}" for host in hosts))
        return env

    def start(self, timeout: float = 180) -> Stack:
        self.check_ports_free()
        try:
            return self.start_servers(timeout)
        except BaseException:
            self.stop()  # whatever did start, so that no server is left behind
            raise

    def check_ports_free(self) -> None:
        busy = [f"{port} for {name}" for name, port in self.ports().items() if port_in_use(self.host, port)]
        if busy:
            raise StartupError(
                f"port {', '.join(busy)} is already in use on {self.host}. Stop what listens there (an earlier "
                "`make run`? `ss -ltnp` shows it) or choose another port with the option named."
            )

    def start_servers(self, timeout: float = 180) -> Stack:
        """The action server, every Rasa server and the website, once the ports are known to be free."""
        env = self.environment()
        # The action server starts while the Rasa servers load their model: neither needs the other to start.
        actions = self._spawn_actions(env)
        self._start_rasa(env, timeout, self.rasa_ports())
        self._wait_for_actions(actions, timeout)
        self.start_delivery(env)
        if self.site_port is not None:
            website = [sys.executable, "-m", "bot.site", "--host", self.host, "--port", str(self.site_port)]
            site = self._spawn("site", [*website, "--rasa-url", self.site_rasa_url()], env)
            wait_until_up(f"{self.site_url}/", site, timeout)
        return self

    def start_actions(self, env: dict[str, str], timeout: float = 180) -> None:
        self._wait_for_actions(self._spawn_actions(env), timeout)

    def _spawn_actions(self, env: dict[str, str]) -> subprocess.Popen:
        command = [BIN / "rasa", "run", "actions", "--port", str(self.action_port), "--actions", "actions"]
        return self._spawn("actions", command, env)

    def _wait_for_actions(self, actions: subprocess.Popen, timeout: float) -> None:
        wait_until_up(f"http://{self.host}:{self.action_port}/health", actions, timeout)

    def stop_process(self, name: str) -> None:
        """Stop one server ("actions", "rasa", …); the others keep running."""
        process = self._by_name.pop(name)
        self._terminate([process])
        self.processes.remove(process)

    def stop_delivery(self) -> None:
        """Stop delivering requests to staff (as a crash or a deploy does); the servers keep storing them."""
        self.stop_process("delivery")

    def start_delivery(self, env: dict[str, str] | None = None) -> None:
        # After the Rasa servers, which create the conversations database the requests are kept in.
        self._spawn("delivery", [sys.executable, "-m", "bot", "requests", "deliver"], env or self.environment())

    def restart_rasa(self, timeout: float = 180, name: str = "rasa") -> None:
        """Stop a Rasa server and start it again on the same port, as a deploy does; the rest keeps running."""
        self.stop_process(name)
        self.start_rasa(name, timeout)

    def start_rasa(self, name: str = "rasa", timeout: float = 180) -> None:
        """Start one of the Rasa servers (a stopped one) again, on its port."""
        self._start_rasa(self.environment(), timeout, {name: self.rasa_ports()[name]})

    def _start_rasa(self, env: dict[str, str], timeout: float, ports: dict[str, int]) -> None:
        """Start a Rasa server on each of ``ports`` (by name), all at once: each takes seconds to load its model."""
        # Imported here: it loads Rasa, which every other `bot` command can do without.
        from bot.channels.socketio import allowed_origins

        files = ["--endpoints", self.endpoints, "--credentials", self.credentials]
        # Browsers may call the Rasa server only from the pages allowed to embed the widget.
        cors = ["--cors", *allowed_origins(env)]
        token = api_token(env)
        api = ["--enable-api", "--auth-token", token] if token else []
        started = {}
        for name, port in ports.items():
            server = [BIN / "rasa", "run", "--interface", self.host, "--port", str(port)]
            started[port] = self._spawn(name, [*server, *api, "--model", self.model, *files, *cors], env)
        for port, rasa in started.items():
            url = f"http://{self.host}:{port}"
            if token:
                wait_until_up(f"{url}/status", rasa, timeout, ready="model_file", params={"token": token})
            else:
                # Without the API only Rasa's greeting and the channels answer; Rasa loads the model before serving.
                wait_until_up(f"{url}/", rasa, timeout, ready="Hello from Rasa")

    def _spawn(self, name: str, command: list, env: dict[str, str]) -> subprocess.Popen:
        output = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [str(part) for part in command],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
        self.processes.append(process)
        self._by_name[name] = process
        return process

    @staticmethod
    def _terminate(processes: list[subprocess.Popen]) -> None:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        self._terminate(list(reversed(self.processes)))
        self.processes.clear()
        self._by_name.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def stop_on_signals() -> None:
    """Ctrl-C, `kill`, a service manager and a closed terminal all stop the servers cleanly.

    Set explicitly because a shell that starts us in the background makes us
    inherit an *ignored* SIGINT, and SIGTERM or SIGHUP would otherwise end this
    process without stopping the servers it started (each runs in its own
    session, so signals to our process group do not reach them).
    """

    def stop(signum: int, frame: object) -> None:
        ignore_signals()
        raise KeyboardInterrupt

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)


def ignore_signals() -> None:
    """While stopping, a second signal (Ctrl-C pressed twice, one to each process in the group) must not
    interrupt the stopping and leave a server running."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _staff_preview_hint(stack: Stack) -> str:
    if stack.api_token:
        return f'  Staff preview:  {API_TOKEN_VARIABLE}=… .venv/bin/python -m bot ask "does it hurt?"'
    return f"  The HTTP API is off (staff preview with `bot ask` needs it): set {API_TOKEN_VARIABLE} to enable it."


def serve(rasa_port: int = 5005, action_port: int = 5055, site_port: int = 8000) -> int:
    """Run the servers and the demo website in the foreground until Ctrl-C (``make run``)."""
    stack = Stack(rasa_port=rasa_port, action_port=action_port, site_port=site_port)
    starting = (
        f"Starting the action server (:{action_port}), the Rasa server (:{rasa_port}) and the demo website "
        f"(:{site_port}); this takes about 10 s…"
    )
    return run_in_foreground(
        stack,
        starting,
        lambda: (
            f"\nThe assistant is ready.\n  Website with the chat widget:  {stack.site_url}/\n"
            f"  REST:  curl -s {stack.url}/webhooks/rest/webhook "
            '-d \'{"sender":"me","message":"how many sessions do I need?"}\'\n'
            f"{_staff_preview_hint(stack)}"
        ),
    )


def run_in_foreground(stack: Stack, starting: str, ready: Callable[[], str]) -> int:
    """Start ``stack``, say ``ready()``, and keep it running until Ctrl-C, a signal, or a server stops."""
    stop_on_signals()
    print(starting, flush=True)
    try:
        stack.start()
        print(f"{ready()}\nPress Ctrl-C to stop everything.", flush=True)
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
        ignore_signals()
        stack.stop()
