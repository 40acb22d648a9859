"""A member of staff at work, against the real servers and a real SQLite tracker store.

The servers answer from a copy of the content that these tests edit as staff
would; the running assistant reloads it on the next question, so no test
restarts anything. Every edit is undone when its test ends.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.servers import API_TOKEN_VARIABLE, Stack
from tests.conftest import API_TOKEN, ARTIFACTS, PAGE, ask, copy_content, reply_text, run_bot, servers_for

SECOND_PAGE = PROJECT_DIR / "tests" / "fixtures" / "content" / "procedures"
LOGS = ARTIFACTS / "logs" / "staff-workflow"


@pytest.fixture(scope="module")
def content_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_content(tmp_path_factory.mktemp("staff"))


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staff-tracker") / "tracker.db"


@pytest.fixture(scope="module")
def servers(content_dir: Path, tracker_db: Path) -> Iterator[Stack]:
    # Its own servers, not the session's: these tests add and break pages.
    with servers_for(content_dir, tracker_db, LOGS) as stack:
        yield stack


@pytest.fixture
def page(content_dir: Path) -> Iterator[Path]:
    """The page the servers answer from; the test's edits are undone afterwards."""
    path = content_dir / "procedures" / PAGE.name
    original = path.read_text(encoding="utf-8")
    yield path
    path.write_text(original, encoding="utf-8")


@pytest.fixture
def second_page(content_dir: Path) -> Iterator[None]:
    """The test page dropped into the content folder, and taken out again afterwards."""
    copies = [Path(shutil.copy(source, content_dir / "procedures")) for source in SECOND_PAGE.iterdir()]
    yield
    for copy in copies:
        copy.unlink()


def bot(*args: str, tracker_db: Path | None = None, token: str = API_TOKEN) -> subprocess.CompletedProcess:
    """``python -m bot …`` as staff run it, with the servers' API token."""
    env = {API_TOKEN_VARIABLE: token} | ({"TRACKER_DB": str(tracker_db)} if tracker_db else {})
    return run_bot(*args, **env)


def delete_section(text: str, heading: str) -> str:
    """The page without the section under ``heading``, up to the next heading."""
    return re.sub(rf"^{re.escape(heading)}\n.*?(?=^#)", "", text, flags=re.MULTILINE | re.DOTALL)


def test_an_edited_paragraph_is_checked_previewed_and_served(servers: Stack, content_dir: Path, page: Path):
    page.write_text(page.read_text().replace("about three to five sessions", "about four to six sessions"))

    checked = bot("check", str(content_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    preview = bot("ask", "how many sessions do I need?", "--url", servers.url)
    assert preview.returncode == 0, preview.stderr
    assert "on average about four to six sessions are required" in preview.stdout
    assert re.search(rf"topic: sessions\s+passage: {re.escape(str(page))}:\d+", preview.stdout)
    assert "four to six sessions" in reply_text(ask(servers, "how many sessions will it take?"))


def test_the_preview_says_which_token_to_set_without_one(servers: Stack):
    preview = bot("ask", "does it hurt?", "--url", servers.url, token="")
    assert preview.returncode == 2
    assert f"set {API_TOKEN_VARIABLE}" in preview.stdout
    wrong = bot("ask", "does it hurt?", "--url", servers.url, token="not-the-token")
    assert wrong.returncode == 2
    assert "refused the token (HTTP 401)" in wrong.stdout


def test_a_message_the_input_gate_refuses_is_previewed_without_nlu(servers: Stack):
    preview = bot("ask", "does it hurt? " * 100, "--url", servers.url)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "That message is too long for me" in preview.stdout
    assert "no NLU ran" in preview.stdout
    assert "intent:" not in preview.stdout


def test_a_broken_edit_fails_the_check_and_the_last_good_content_stays_in_service(
    servers: Stack, content_dir: Path, page: Path
):
    who_not = "who should not have laser treatment?"
    assert "not recommended during lactation or pregnancy" in reply_text(ask(servers, who_not))
    log = LOGS / "actions.log"
    logged_before = log.stat().st_size

    page.write_text(delete_section(page.read_text(), "## Contraindications"))

    checked = bot("check", str(content_dir))
    assert checked.returncode != 0
    assert re.search(r"laser-pigment-removal\.topics\.yml:\d+: topic 'contraindications'", checked.stdout)
    assert "not recommended during lactation or pregnancy" in reply_text(ask(servers, who_not))
    with log.open(encoding="utf-8", errors="replace") as handle:
        handle.seek(logged_before)
        assert re.search(r"keeping the last good content: \S+\.topics\.yml:\d+:", handle.read())


@pytest.mark.usefixtures("second_page")
def test_with_a_second_page_the_assistant_asks_which_procedure(servers: Stack, content_dir: Path):
    checked = bot("check", str(content_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    visitor = uuid.uuid4().hex
    question = ask(servers, "how many sessions do I need?", visitor)
    assert question[0]["text"] == "Which procedure are you asking about?"
    buttons = {button["title"]: button["payload"] for button in question[0]["buttons"]}
    assert set(buttons) == {"Laser hair removal", "Laser removal of pigment spots"}

    answer = reply_text(ask(servers, buttons["Laser hair removal"], visitor))
    assert "six to eight sessions of hair removal" in answer


@pytest.mark.usefixtures("second_page")
@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("does the pigment laser hurt?", "does not require the use of painkillers"),
        ("does hair removal hurt?", "quick snap of a rubber band"),
    ],
)
def test_a_question_naming_the_procedure_is_answered_without_asking(servers: Stack, question: str, answer: str):
    replies = reply_text(ask(servers, question))
    assert answer in replies
    assert "Which procedure" not in replies


@pytest.fixture(scope="module")
def unanswered_conversation(servers: Stack) -> None:
    """A visitor asks two things the page doesn't cover (one of them twice) and one it does."""
    visitor = uuid.uuid4().hex
    for message in ("how much does it cost", "does it hurt?", "How much does it cost??", "where is the clinic"):
        ask(servers, message, visitor)
    # Staff previews are not visitors' questions: the report leaves them out.
    bot("ask", "do you sell gift vouchers", "--url", servers.url)


@pytest.mark.usefixtures("unanswered_conversation")
def test_the_unanswered_report_lists_the_fallbacks_merged_and_newest_first(tracker_db: Path):
    report = bot("report", "unanswered", "--since", "1h", tracker_db=tracker_db)
    assert report.returncode == 0, report.stderr
    rows = {line.split("  ")[-1].strip(): line for line in report.stdout.splitlines()}
    assert re.match(r"\s*1\s.*fell back\s+where is the clinic$", rows["where is the clinic"])
    assert re.match(r"\s*2\s.*fell back\s+How much does it cost\?\?$", rows["How much does it cost??"])
    assert report.stdout.index("where is the clinic") < report.stdout.index("How much does it cost??")
    assert "does it hurt" not in report.stdout
    assert "gift vouchers" not in report.stdout


@pytest.mark.usefixtures("unanswered_conversation")
def test_the_unanswered_report_as_csv(tracker_db: Path):
    report = bot("report", "unanswered", "--format", "csv", tracker_db=tracker_db)
    assert report.returncode == 0, report.stderr
    rows = {row["question"]: row for row in csv.DictReader(io.StringIO(report.stdout))}
    assert rows["How much does it cost??"]["count"] == "2"
    assert rows["How much does it cost??"]["why"] == "fell back"
    assert rows["where is the clinic"]["count"] == "1"
    assert "does it hurt?" not in rows
