"""Shared fixtures: the shipped content, editable copies of it, and the real servers."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.library import load_content
from bot.servers import API_TOKEN_VARIABLE, PROJECT_DIR, Stack, free_port

CONTENT_DIR = PROJECT_DIR / "content"
PAGE = CONTENT_DIR / "procedures" / "laser-pigment-removal.md"
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
# The test servers' HTTP API is on, as a clinic's is when staff set a token, so tests can read the conversations.
API_TOKEN = secrets.token_hex(16)


def copy_content(parent: Path) -> Path:
    """A copy of the shipped content under ``parent``, for tests to edit freely."""
    target = parent / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def servers_for(content: Path, db: Path, log_dir: Path = ARTIFACTS / "logs") -> Stack:
    """The real action server and Rasa server on free ports, answering from ``content``, storing in ``db``."""
    return Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=log_dir,
        env={"CLINIC_CONTENT_DIR": str(content), "TRACKER_DB": str(db), API_TOKEN_VARIABLE: API_TOKEN},
    )


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A copy of the shipped content that a test may edit freely."""
    return copy_content(tmp_path)


@pytest.fixture(scope="session")
def shipped():
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def live_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The content directory the running servers answer from (a copy the tests edit)."""
    return copy_content(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def stack(live_content: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real action server and Rasa server, on free ports, with a SQLite tracker store."""
    with servers_for(live_content, tmp_path_factory.mktemp("tracker") / "tracker.db") as servers:
        yield servers


def ask(stack: Stack, message: str, sender: str | None = None) -> list[dict]:
    """What the assistant replies over REST, as a list of messages."""
    response = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": sender or uuid.uuid4().hex, "message": message},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def run_bot(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m bot …`` as staff run it, with the test servers' API token unless ``env`` gives another."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, API_TOKEN_VARIABLE: API_TOKEN, **env},
    )


def tracker(stack: Stack, sender: str | int) -> dict:
    """The conversation's tracker (events and slots), read through Rasa's HTTP API with the stack's token."""
    response = requests.get(
        f"{stack.url}/conversations/{sender}/tracker", params={"token": stack.api_token}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def tracker_events(stack: Stack, sender: str | int) -> list[dict]:
    return tracker(stack, sender)["events"]


def reply_text(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)
