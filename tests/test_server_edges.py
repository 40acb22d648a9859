"""The servers' edges: a closed HTTP API, CORS for the widget's pages only, loopback only, clean stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot import PROJECT_DIR
from bot.servers import API_TOKEN_VARIABLE, Stack, StartupError, free_port, port_in_use

LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def tracker_url(stack: Stack) -> str:
    return f"{stack.url}/conversations/some-visitor/tracker"


# --- the HTTP API ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status"),
    [({}, 401), ({"token": "wrong"}, 401), ({"token": ""}, 401)],
    ids=["no token", "wrong token", "empty token"],
)
def test_the_api_refuses_a_caller_without_the_token(stack, params, status):
    for method, url in [
        ("GET", tracker_url(stack)),
        ("POST", f"{tracker_url(stack)}/events"),
        ("PUT", f"{stack.url}/model"),
        ("GET", f"{stack.url}/status"),
    ]:
        response = requests.request(method, url, params=params, json=[], timeout=30)
        assert response.status_code == status, f"{method} {url}"


def test_the_api_answers_a_caller_with_the_token(stack):
    response = requests.get(tracker_url(stack), params={"token": stack.api_token}, timeout=30)
    assert response.status_code == 200
    assert response.json()["sender_id"] == "some-visitor"


def preflight(stack: Stack, origin: str) -> requests.Response:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    return requests.options(f"{stack.url}/webhooks/rest/webhook", headers=headers, timeout=30)


def test_a_page_from_a_foreign_origin_gets_no_cors_permission(stack):
    assert "Access-Control-Allow-Origin" not in preflight(stack, "https://attacker.example").headers
    assert (
        "Access-Control-Allow-Origin"
        not in requests.get(
            tracker_url(stack), params={"token": stack.api_token}, headers={"Origin": "https://attacker.example"}
        ).headers
    )


def test_the_widget_pages_origin_gets_cors_permission(stack):
    # The stack serves no site of its own, so the allowed origins are the local demo's defaults.
    allowed = preflight(stack, "http://127.0.0.1:8000").headers
    assert allowed["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"


# --- listening addresses --------------------------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """The addresses (as /proc/net/tcp{,6} writes them) on which something listens on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_every_server_listens_on_loopback_only(stack):
    for port in (stack.rasa_port, stack.action_port):
        assert listening_addresses(port) == {LOOPBACK}, f"port {port}"


def non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_action_server_cannot_be_reached_from_another_host(stack):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{address}:{stack.action_port}/health", timeout=5)


# --- `bot serve`: stopping cleanly, refusing a busy port ----------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Every process started, directly or not, by ``pid``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_serve(tmp_path: Path, ports: dict[str, int]) -> subprocess.Popen:
    """``python -m bot serve`` in its own process group, as `make run` is in a terminal or a service."""
    env = {**os.environ, "TRACKER_DB": str(tmp_path / "tracker.db")}
    env.pop(API_TOKEN_VARIABLE, None)
    options = [f"--{name}={port}" for name, port in ports.items()]
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *options],
        cwd=PROJECT_DIR,
        env=env,
        stdout=(tmp_path / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(text: str, log: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, f"bot serve exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"bot serve did not print {text!r}:\n{log.read_text()}"
        time.sleep(1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_bot_serve_stops_every_server_when_its_process_group_is_signalled_twice(tmp_path, signum):
    ports = {"port": free_port(), "actions-port": free_port(), "site-port": free_port()}
    serve = start_serve(tmp_path, ports)
    try:
        wait_for("The assistant is ready", tmp_path / "serve.log", serve)
        # Without a token the API is off: only Rasa's greeting and the channels answer.
        rasa = f"http://127.0.0.1:{ports['port']}"
        assert requests.get(f"{rasa}/conversations/x/tracker", timeout=30).status_code == 404
        assert requests.get(f"{rasa}/", timeout=30).ok
        servers = descendants(serve.pid)
        assert len(servers) >= 3

        os.killpg(serve.pid, signum)
        time.sleep(0.5)  # the second signal arrives while the servers are being stopped
        os.killpg(serve.pid, signum)
        assert serve.wait(timeout=90) == 0
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
    assert [pid for pid in servers if alive(pid)] == []
    assert [port for port in ports.values() if port_in_use("127.0.0.1", port)] == []


def test_bot_serve_refuses_a_busy_port_before_starting_anything(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        ports = {"port": free_port(), "actions-port": busy, "site-port": free_port()}
        serve = start_serve(tmp_path, ports)
        assert serve.wait(timeout=60) == 1
    said = (tmp_path / "serve.log").read_text()
    assert f"port {busy} for the action server (--actions-port) is already in use" in said
    assert not port_in_use("127.0.0.1", ports["port"])


def test_a_rasa_server_that_cannot_start_leaves_no_server_behind(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("no_such_module.NoSuchChannel:\n  token: x\n")
    stack = Stack(rasa_port=free_port(), action_port=free_port(), credentials=credentials, log_dir=tmp_path)
    with pytest.raises(StartupError, match="exited"):
        stack.start(timeout=120)
    assert stack.processes == []
    assert not port_in_use("127.0.0.1", stack.action_port)
