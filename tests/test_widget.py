"""The website chat widget in a real browser, against the real Rasa and action servers.

Headless Debian Chromium driven by Playwright. Every page is the demo website
with its strict Content-Security-Policy, so each test also proves the widget
runs under it. Screenshots and the measured figures land in tests/artifacts/.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright

from bot import PROJECT_DIR
from bot.servers import Stack, free_port, wait_until_up
from tests.conftest import ARTIFACTS, copy_content, servers_for, tracker_events

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
WIDGET_FILES = [PROJECT_DIR / "widget" / "widget.js", PROJECT_DIR / "widget" / "widget.css"]
SOCKET_IO = PROJECT_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
PAGE_PATH = "procedures/laser-pigment-removal.md"
OUR_GZIP_BUDGET = 15 * 1024
ANSWER_WAIT_MS = 30_000

LAUNCHER = "Chat with the clinic's assistant"
SESSIONS_ANSWER = "on average about three to five sessions are required"
SESSIONS_ANCHOR = "what-does-the-skin-look-like-after-the-procedure"
SESSIONS_SECTION = "What does the skin look like after the procedure?"
OFFLINE_NOTICE = "Connection lost"
TYPING = "The assistant is typing…"
WATCH_FOR_TYPING = f"""() => {{
    window.typingWasShown = false;
    const widget = document.getElementById("clinic-chat").shadowRoot;
    new MutationObserver(() => {{ window.typingWasShown ||= widget.textContent.includes("{TYPING}"); }})
        .observe(widget, {{ childList: true, subtree: true }});
}}"""
BOOKING_URL = "https://booking.example-clinic.com/laser"


@pytest.fixture(scope="module")
def widget_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real servers plus the demo website, answering from a copy of the content the tests may edit."""
    workdir = tmp_path_factory.mktemp("widget")
    servers = servers_for(copy_content(workdir), workdir / "tracker.db", log_dir=ARTIFACTS / "logs" / "widget")
    servers.site_port = free_port()
    with servers:
        yield servers


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it), or set CHROMIUM")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One visitor's tab on the demo site, with what the browser complained about."""

    def __init__(self, page: Page, site_url: str) -> None:
        self.page = page
        self.site_url = site_url
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("dialog", self._record_dialog)

    def _record_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open_site(self) -> None:
        self.page.goto(f"{self.site_url}/")

    def open_chat(self) -> None:
        """Open the chat and wait, as a visitor would, for the greeting."""
        self.page.get_by_role("button", name=LAUNCHER).click()
        expect(self.page.get_by_role("dialog")).to_be_visible()
        expect(self.assistant_says("automated assistant")).to_be_visible(timeout=ANSWER_WAIT_MS)

    def ask(self, question: str) -> None:
        self.page.get_by_label("Your question").fill(question)
        self.page.get_by_label("Your question").press("Enter")

    def assistant_says(self, words: str) -> Locator:
        return self.page.locator(".from-assistant", has_text=words)

    def visitor_says(self, words: str) -> Locator:
        return self.page.locator(".from-visitor", has_text=words)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"widget-{name}.png")


@pytest.fixture
def visit(browser: Browser, widget_stack: Stack) -> Iterator[Visit]:
    """A fresh visitor (own session storage); fails the test if the page logged errors, e.g. CSP violations."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = Visit(context.new_page(), widget_stack.site_url)
    yield tab
    context.close()
    assert tab.console_errors == [], "the browser console reported errors"


@pytest.fixture(scope="module")
def metrics(pytestconfig: pytest.Config) -> Iterator[dict[str, object]]:
    """Figures measured along the way: shown after the tests and kept in tests/artifacts/widget-metrics.json."""
    measured: dict[str, object] = {}
    yield measured
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "widget-metrics.json").write_text(json.dumps(measured, indent=2) + "\n")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    with pytestconfig.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        for name, value in measured.items():
            reporter.write_line(f"widget {name}: {value}")


def gzipped_size(*paths: Path) -> int:
    return len(gzip.compress(b"".join(path.read_bytes() for path in paths), compresslevel=9))


def test_the_widget_is_small(metrics: dict[str, object]) -> None:
    metrics["our_js_and_css_gzip_bytes"] = ours = gzipped_size(*WIDGET_FILES)
    metrics["socket_io_client_gzip_bytes"] = gzipped_size(SOCKET_IO)
    assert ours <= OUR_GZIP_BUDGET


def test_the_demo_page_is_served_with_a_strict_content_security_policy(widget_stack: Stack) -> None:
    policy = requests.get(f"{widget_stack.site_url}/", timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_visitor_asks_a_question_and_reads_the_pages_answer(visit: Visit, metrics: dict[str, object]) -> None:
    visit.open_site()
    visit.open_chat()
    log = visit.page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log.locator(".from-assistant", has_text="automated assistant")).to_be_visible()
    expect(visit.page.get_by_role("group", name="Suggested questions")).to_be_visible()
    # The answer can come back faster than Playwright polls, so the page itself notes the typing indicator.
    visit.page.evaluate(WATCH_FOR_TYPING)
    visit.ask("how many sessions do I need?")
    asked_at = visit.page.evaluate("performance.now()")
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible(timeout=ANSWER_WAIT_MS)
    answered_at = visit.page.evaluate("performance.now()")
    assert visit.page.evaluate("window.typingWasShown"), "a typing indicator showed while the answer was on its way"
    expect(visit.page.get_by_text(TYPING)).to_have_count(0)
    metrics["page_load_to_first_answer_ms"] = round(answered_at)
    metrics["question_to_answer_ms"] = round(answered_at - asked_at)
    visit.shot("answer")

    assert SESSIONS_ANSWER in visit.page.locator("article").inner_text(), "the answer is the page's own words"
    read_more = visit.page.get_by_role("link", name=SESSIONS_SECTION)
    expect(read_more).to_have_attribute("href", f"{visit.site_url}/procedures/laser-pigment-removal#{SESSIONS_ANCHOR}")
    launcher = visit.page.get_by_role("button", name=LAUNCHER)
    accent = launcher.evaluate("button => getComputedStyle(button).backgroundColor")
    assert accent == "rgb(15, 107, 92)", "the script tag's data-accent-color themes the widget"
    assert answered_at < 10_000, "a visitor waits no more than a few seconds for the first answer"


def test_a_quick_reply_asks_its_question(visit: Visit) -> None:
    visit.open_site()
    visit.open_chat()
    visit.page.get_by_role("button", name="Does it hurt?").click()
    expect(visit.visitor_says("Does it hurt?")).to_be_visible()
    expect(visit.assistant_says("painkillers")).to_be_visible(timeout=ANSWER_WAIT_MS)
    expect(visit.page.get_by_role("group", name="Suggested questions")).to_have_count(0)
    visit.shot("quick-reply")


def test_lists_and_links_in_answers_are_rendered(visit: Visit, widget_stack: Stack) -> None:
    clinic_file = Path(widget_stack.env["CLINIC_CONTENT_DIR"]) / "clinic.yml"
    original = clinic_file.read_text(encoding="utf-8")
    clinic_file.write_text(f"{original}\nphone: +1 555 0100\nbooking_url: {BOOKING_URL}\n", encoding="utf-8")
    try:
        visit.open_site()
        visit.open_chat()
        visit.ask("what are the indications for the procedure?")
        answer = visit.assistant_says("Indications for laser removal of age spots are")
        expect(answer.locator("ul > li")).to_have_count(visit.page.locator("article ol > li").count())
        visit.ask("how much does it cost?")
        booking = visit.page.get_by_role("link", name=BOOKING_URL)
        expect(booking).to_have_attribute("target", "_blank", timeout=ANSWER_WAIT_MS)
        expect(booking).to_have_attribute("rel", "noopener noreferrer")
        visit.shot("list-and-link")
    finally:
        clinic_file.write_text(original, encoding="utf-8")


def test_the_conversation_survives_a_reload_and_a_move_to_the_linked_section(visit: Visit, widget_stack: Stack) -> None:
    visit.open_site()
    visit.open_chat()
    visit.ask("how many sessions do I need?")
    read_more = visit.page.get_by_role("link", name=SESSIONS_SECTION)
    expect(read_more).to_be_visible(timeout=ANSWER_WAIT_MS)

    visit.page.reload()
    expect(visit.page.get_by_role("dialog")).to_be_visible()
    expect(visit.visitor_says("how many sessions do I need?")).to_be_visible()
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible()
    visit.shot("after-reload")

    read_more.click()
    visit.page.wait_for_url(f"**/procedures/laser-pigment-removal#{SESSIONS_ANCHOR}")
    expect(visit.page.locator(f"h3#{SESSIONS_ANCHOR}")).to_have_text(SESSIONS_SECTION)
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible()

    visit.ask("does it hurt?")
    expect(visit.assistant_says("painkillers")).to_be_visible(timeout=ANSWER_WAIT_MS)
    session_id = visit.page.evaluate(
        "Object.entries(sessionStorage).map(([, value]) => JSON.parse(value).sessionId).find(Boolean)"
    )
    asked = [event["text"] for event in tracker_events(widget_stack, session_id) if event["event"] == "user"]
    assert {"how many sessions do I need?", "does it hurt?"} <= set(asked), "one conversation on the server too"


def test_the_widget_works_by_keyboard_alone(visit: Visit) -> None:
    visit.open_site()
    launcher = visit.page.get_by_role("button", name=LAUNCHER)
    for _ in range(10):
        visit.page.keyboard.press("Tab")
        if launcher.evaluate("button => button.matches(':focus')"):
            break
    expect(launcher).to_be_focused()
    assert launcher.evaluate("button => getComputedStyle(button).outlineStyle") == "solid", "focus is visible"

    visit.page.keyboard.press("Enter")
    question = visit.page.get_by_label("Your question")
    expect(question).to_be_focused()
    suggestion = visit.page.get_by_role("button", name="How long is the recovery?")
    expect(suggestion).to_be_visible(timeout=ANSWER_WAIT_MS)
    visit.page.keyboard.press("Shift+Tab")
    expect(suggestion).to_be_focused()
    visit.shot("keyboard-focus")
    visit.page.keyboard.press("Enter")
    expect(visit.visitor_says("How long is the recovery?")).to_be_visible()
    expect(question).to_be_focused()

    visit.page.keyboard.type("does it hurt?")
    visit.page.keyboard.press("Enter")
    expect(visit.assistant_says("painkillers")).to_be_visible(timeout=ANSWER_WAIT_MS)

    visit.page.keyboard.press("Escape")
    expect(visit.page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


@pytest.mark.parametrize("width", [375, 360])
def test_on_a_phone_the_chat_fills_the_screen(visit: Visit, width: int) -> None:
    visit.page.set_viewport_size({"width": width, "height": 740})
    visit.open_site()
    visit.open_chat()
    visit.ask("how many sessions do I need?")
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible(timeout=ANSWER_WAIT_MS)
    visit.shot(f"phone-{width}px")

    panel = visit.page.get_by_role("dialog").bounding_box()
    assert panel is not None and (panel["x"], panel["width"]) == (0, width)
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= width, "nothing scrolls sideways"
    for control in ("Your question", "Send", "Close chat"):
        expect(visit.page.get_by_label(control, exact=True)).to_be_in_viewport()
    visit.page.get_by_role("button", name="Close chat").click()
    expect(visit.page.get_by_role("button", name=LAUNCHER)).to_be_focused()


@pytest.mark.parametrize("width", [1280, 375])
def test_axe_finds_no_serious_or_critical_violations(visit: Visit, width: int, metrics: dict[str, object]) -> None:
    visit.page.set_viewport_size({"width": width, "height": 800})
    visit.open_site()
    visit.open_chat()
    visit.ask("how many sessions do I need?")
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible(timeout=ANSWER_WAIT_MS)
    expect(visit.page.get_by_role("button", name="Send")).to_be_visible()
    assert visit.console_errors == []
    # axe adds an inline style while it scans, which the page's CSP rightly refuses.
    visit.page.evaluate(AXE.read_text(encoding="utf-8"))
    results = visit.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    visit.console_errors.clear()
    violations = {violation["id"]: violation["impact"] for violation in results["violations"]}
    metrics[f"axe_violations_{width}px"] = violations or "none"
    assert not {rule for rule, impact in violations.items() if impact in ("serious", "critical")}


def test_html_from_a_visitor_or_the_page_is_shown_as_text_and_never_runs(visit: Visit, widget_stack: Stack) -> None:
    attack = "<img src=x onerror=alert(1)>"
    visit.open_site()
    visit.open_chat()
    visit.ask(attack)
    expect(visit.visitor_says(attack)).to_have_text(f"You:{attack}")
    expect(visit.page.locator(".from-assistant")).not_to_have_count(1, timeout=ANSWER_WAIT_MS)

    page_file = Path(widget_stack.env["CLINIC_CONTENT_DIR"]) / PAGE_PATH
    original = page_file.read_text(encoding="utf-8")
    page_file.write_text(
        original.replace("painkillers.", "painkillers <img src=x onerror=alert(2)>."), encoding="utf-8"
    )
    try:
        visit.ask("does it hurt?")
        expect(visit.assistant_says("<img src=x onerror=alert(2)>")).to_be_visible(timeout=ANSWER_WAIT_MS)
        visit.page.reload()
        expect(visit.visitor_says(attack)).to_be_visible()
        expect(visit.page.locator("article")).to_contain_text("painkillers <img src=x onerror=alert(2)>")
        visit.shot("html-as-text")
    finally:
        page_file.write_text(original, encoding="utf-8")
    assert visit.page.locator("img").count() == 0
    assert visit.dialogs == [], "no injected script ran"


def test_a_page_on_another_website_cannot_use_the_assistant(visit: Visit, widget_stack: Stack) -> None:
    """The same page served from another origin, as a copycat site would, gets no answers."""
    port = free_port()
    command = [sys.executable, "-m", "bot.site", "--port", str(port), "--rasa-url", widget_stack.url]
    copycat = subprocess.Popen(command, env=widget_stack.environment(), stdout=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", copycat, timeout=30)
        visit.page.goto(f"http://127.0.0.1:{port}/")
        with visit.page.expect_console_message(lambda message: "WIDGET_ALLOWED_ORIGINS" in message.text):
            visit.page.get_by_role("button", name=LAUNCHER).click()
        expect(visit.page.get_by_text(OFFLINE_NOTICE)).to_be_visible()
        expect(visit.page.locator(".from-assistant")).to_have_count(0)
    finally:
        copycat.terminate()
        copycat.wait()


def test_the_widget_reconnects_when_the_rasa_server_restarts(
    visit: Visit, widget_stack: Stack, metrics: dict[str, object]
) -> None:
    visit.open_site()
    visit.open_chat()

    failures: list[BaseException] = []
    restart = threading.Thread(target=lambda: _capture(widget_stack.restart_rasa, failures))
    restart.start()
    try:
        expect(visit.page.get_by_text(OFFLINE_NOTICE)).to_be_visible(timeout=ANSWER_WAIT_MS)
        visit.ask("how many sessions do I need?")
        expect(visit.visitor_says("how many sessions do I need?")).to_be_visible()
        visit.shot("offline")
    finally:
        restart.join()
    assert not failures, f"the Rasa server did not come back: {failures}"
    started = time.monotonic()
    expect(visit.page.get_by_text(OFFLINE_NOTICE)).to_be_hidden(timeout=ANSWER_WAIT_MS)
    expect(visit.assistant_says(SESSIONS_ANSWER)).to_be_visible(timeout=ANSWER_WAIT_MS)
    metrics["answer_after_rasa_is_back_ms"] = round((time.monotonic() - started) * 1000)
    visit.shot("reconnected")
    # While the server was down the browser logged each failed attempt to reach it; that is the point of the test.
    visit.console_errors = [
        error for error in visit.console_errors if "socket.io" not in error and "ERR_CONNECTION_REFUSED" not in error
    ]


def _capture(action: Callable[[], object], failures: list[BaseException]) -> None:
    try:
        action()
    except BaseException as error:  # reported by the test's own thread, which owns the browser
        failures.append(error)


def test_a_person_is_always_one_visible_button_away_and_a_booking_follows(visit: Visit) -> None:
    visit.open_site()
    visit.open_chat()
    person = visit.page.get_by_role("button", name="Talk to a person")
    expect(person).to_be_visible()
    person.click()
    expect(visit.visitor_says("Talk to a person")).to_be_visible()
    # This content sets no contact details: the reply says so and offers a request the clinic answers.
    expect(visit.assistant_says("contact details")).to_be_visible(timeout=ANSWER_WAIT_MS)
    visit.page.get_by_role("button", name="Book a consultation").click()
    expect(visit.assistant_says("What name should the clinic use?")).to_be_visible(timeout=ANSWER_WAIT_MS)
    for answer, next_question in (
        ("Wilhelmina Widget", "phone number or an e-mail address"),
        ("wilhelmina@example.org", "When would suit you?"),
        ("Monday at noon", "May the clinic use your name"),
    ):
        visit.ask(answer)
        expect(visit.assistant_says(next_question)).to_be_visible(timeout=ANSWER_WAIT_MS)
    expect(person).to_be_visible()  # still there mid-form
    visit.page.get_by_role("button", name="Yes, I agree").click()
    expect(visit.assistant_says("your reference is C-")).to_be_visible(timeout=ANSWER_WAIT_MS)
    visit.shot("consultation-request")
