"""The demo website: the clinic's procedure pages with the chat widget embedded, as the clinic's site would have it.

``make run`` serves it at http://127.0.0.1:8000/. Pages are rendered from the
content directory on every request, so a staff edit shows on reload, and each
heading carries the id that the assistant's "Read more" links point to. Every
response sends the strict Content-Security-Policy docs/widget.md asks clinics
to keep, so the demo proves the widget works under it.

    python -m bot.site --port 8000 --rasa-url http://127.0.0.1:5005
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt

from bot import PROJECT_DIR
from bot.content import ContentError, parse_page
from bot.library import Content, ContentLibrary, Procedure

logger = logging.getLogger(__name__)

DEMO_DIR = PROJECT_DIR / "demo"
# Only these files are served: no path from a request ever reaches the file system.
ASSETS = {
    "/site.css": DEMO_DIR / "site.css",
    "/favicon.svg": DEMO_DIR / "favicon.svg",
    "/widget/widget.js": PROJECT_DIR / "widget" / "widget.js",
    "/widget/widget.css": PROJECT_DIR / "widget" / "widget.css",
    "/widget/socket.io.min.js": PROJECT_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
}
CONTENT_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
PROCEDURES_PREFIX = "/procedures/"
PAGE_TEMPLATE = Template((DEMO_DIR / "page.html").read_text(encoding="utf-8"))

# html=False: raw HTML in a page is shown as text and never runs, whoever typed it.
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(path: Path) -> str:
    """The page's text as HTML, front matter dropped, each heading's id the anchor the assistant links to."""
    raw = path.read_text(encoding="utf-8")
    _, body = YAMLHandler().split(raw)
    lines_before_body = raw[: raw.find(body)].count("\n")
    try:
        anchors = {section.line: section.anchor for section in parse_page(path, raw).sections}
    except ContentError as error:
        # A half-saved edit still shows; its links come back once it parses again.
        logger.warning("Rendering %s without section anchors: %s", path, error)
        anchors = {}
    tokens = _markdown.parse(body)
    for token in tokens:
        anchor = anchors.get(lines_before_body + token.map[0] + 1) if token.map else None
        if token.type == "heading_open" and anchor:
            token.attrSet("id", anchor)
    return _markdown.renderer.render(tokens, _markdown.options, {})


def content_security_policy(rasa_url: str) -> str:
    """Same-origin scripts and styles only; the one other place the page may talk to is the assistant."""
    scheme, host = urlsplit(rasa_url)[:2]
    socket_scheme = "wss" if scheme == "https" else "ws"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src {scheme}://{host} {socket_scheme}://{host}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    content_type: str
    body: bytes


@dataclass
class DemoSite:
    """What the site answers for each path; knows nothing about HTTP."""

    library: ContentLibrary
    rasa_url: str

    def respond(self, path: str) -> Response:
        if path in ASSETS:
            asset = ASSETS[path]
            return Response(HTTPStatus.OK, CONTENT_TYPES[asset.suffix], asset.read_bytes())
        try:
            content = self.library.current()
        except ContentError as error:
            return Response(HTTPStatus.SERVICE_UNAVAILABLE, TEXT, f"The content has an error: {error}\n".encode())
        slug = min(content.procedures) if path == "/" else path.removeprefix(PROCEDURES_PREFIX).rstrip("/")
        if (path == "/" or path.startswith(PROCEDURES_PREFIX)) and slug in content.procedures:
            return Response(HTTPStatus.OK, HTML, self._page(content, content.procedures[slug]).encode())
        return Response(HTTPStatus.NOT_FOUND, TEXT, b"Not found\n")

    def _page(self, content: Content, shown: Procedure) -> str:
        current = ' aria-current="page"'
        nav = "".join(
            f'<li><a href="{PROCEDURES_PREFIX}{escape(slug)}"{current if procedure is shown else ""}>'
            f"{escape(procedure.title)}</a></li>"
            for slug, procedure in sorted(content.procedures.items())
        )
        return PAGE_TEMPLATE.substitute(
            title=escape(shown.title),
            clinic=escape(content.clinic.name),
            rasa_url=escape(self.rasa_url),
            nav=nav,
            article=render_markdown(shown.page.path),
        )


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer

    def do_GET(self) -> None:
        self._send(with_body=True)

    def do_HEAD(self) -> None:
        self._send(with_body=False)

    def _send(self, with_body: bool) -> None:
        response = self.server.site.respond(urlsplit(self.path).path)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Content-Security-Policy", self.server.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "same-origin")
        # Staff edits and new widget versions show on the next reload.
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if with_body:
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # `make run` shares one terminal with Rasa: only failed requests are worth a line there.
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: DemoSite) -> None:
        super().__init__(address, SiteHandler)
        self.site = site
        self.csp = content_security_policy(site.rasa_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.site", description="Serve the demo website with the widget.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005", help="where the widget finds the assistant")
    parser.add_argument(
        "--content-dir", type=Path, default=None, help="the pages to show (default: $CLINIC_CONTENT_DIR, else content/)"
    )
    args = parser.parse_args(argv)
    missing = [str(path) for path in ASSETS.values() if not path.is_file()]
    if missing:
        print(f"Missing {', '.join(missing)}: run `make setup` (it runs `npm ci`).", file=sys.stderr)
        return 1
    server = SiteServer((args.host, args.port), DemoSite(ContentLibrary(args.content_dir), args.rasa_url))
    print(f"Demo website on http://{args.host}:{args.port}/", flush=True)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
