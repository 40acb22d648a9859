/*
 * The clinic's chat widget: one script tag, no build step (docs/widget.md).
 *
 *   <script src="https://assistant.example/widget/widget.js" defer
 *           data-server="https://assistant.example" data-title="Ask us" data-lang="en"
 *           data-accent-color="#0f6b5c" data-accent-text-color="#ffffff"></script>
 *
 * It loads widget.css and socket.io.min.js from its own folder and talks to
 * Rasa's socket.io channel (bot/channels/socketio.py).
 *
 * Safety rule for this file: text from the assistant or the visitor reaches the
 * page only as text nodes or as a checked http(s) href. Nothing is ever parsed
 * as HTML (no innerHTML), and there are no inline styles or scripts, so the
 * widget runs under `script-src 'self'; style-src 'self'`.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || document.getElementById("clinic-chat")) return; // pasted twice: keep one widget

  const STRINGS = {
    en: {
      title: "Ask the clinic", launcher: "Chat with the clinic's assistant", close: "Close chat",
      log: "Conversation", input: "Your question", placeholder: "Type your question…", send: "Send",
      you: "You:", bot: "Assistant:", suggestions: "Suggested questions", typing: "The assistant is typing…",
      offline: "Connection lost. Reconnecting… Your messages will be sent when it is back.",
      newTab: "(opens in a new tab)", person: "Talk to a person",
    },
    ru: {
      title: "Вопрос клинике", launcher: "Чат с ассистентом клиники", close: "Закрыть чат",
      log: "Переписка", input: "Ваш вопрос", placeholder: "Напишите вопрос…", send: "Отправить",
      you: "Вы:", bot: "Ассистент:", suggestions: "Возможные вопросы", typing: "Ассистент печатает…",
      offline: "Нет связи. Переподключаемся… Сообщения уйдут, когда связь восстановится.",
      newTab: "(откроется в новой вкладке)", person: "Связаться с человеком",
    },
  };
  const ICONS = {
    chat: "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z",
    collapse: "M16.59 8.59 12 13.17 7.41 8.59 6 10l6 6 6-6z",
    close: "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z",
    send: "M2.01 21 23 12 2.01 3 2 10l15 2-15 2z",
  };
  // Keep in step with the full-screen breakpoint in widget.css.
  const FULL_SCREEN = window.matchMedia("(max-width: 480px)");
  const KEPT_MESSAGES = 200;
  const TYPING_TIMEOUT_MS = 30000;
  // [label](href), **strong**, *emphasis*, or a bare http(s) address without its trailing punctuation.
  const INLINE_MARKDOWN = new RegExp([
    /\[([^\]\n]+)\]\(([^()\s]+)\)/, /\*\*([^*\n]+)\*\*/, /\*([^*\n]+)\*/, /(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)])/,
  ].map((part) => part.source).join("|"), "g");
  const LIST_ITEM = /^\s*(?:[-*]|\d+\.)\s+/;

  const options = script.dataset;
  const lang = (options.lang || document.documentElement.lang || "en").toLowerCase();
  const text = STRINGS[lang.split("-")[0]] || STRINGS.en;
  const server = options.server || new URL(script.src).origin;
  const assetBase = new URL(".", script.src);
  const storageKey = `clinic-chat:${server}`;
  const state = restoreState();

  let socketReady = null; // a promise of the socket.io connection, once the chat was opened
  let connected = false;
  let greeted = false;
  let typingTimer = 0;
  const outbox = [];

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children); // strings become text nodes, never markup
    return node;
  }

  function icon(path) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  }

  // sessionStorage, not localStorage: the conversation follows the visitor from page to page in one tab, and a
  // talk about someone's skin is gone once they close that tab on a shared computer.
  function restoreState() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(storageKey));
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch {
      // Storage blocked or garbled: start a fresh conversation.
    }
    return { sessionId: null, open: false, messages: [] };
  }

  function saveState() {
    state.messages = state.messages.slice(-KEPT_MESSAGES);
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(state));
    } catch {
      // Storage full or blocked: the chat works, it just won't survive a reload.
    }
  }

  // ---- The DOM, in a shadow root so the host page's CSS can't reach in ----

  const host = el("div", { id: "clinic-chat" });
  const shadow = host.attachShadow({ mode: "open" });
  const root = el("div", { class: "root", lang, hidden: "" });
  const stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", assetBase).href });
  const title = options.title || text.title;
  const closeButton = el("button", { type: "button", class: "icon-button close", "aria-label": text.close },
    icon(ICONS.close));
  // Always in view: the clinic's contacts, whatever the conversation (a standing command, bot/answers.py).
  const personButton = el("button", { type: "button", class: "person" }, text.person);
  const status = el("p", { class: "status", role: "status" });
  const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": text.log, tabindex: "0" });
  const typing = el("div", { class: "typing", role: "status" });
  const input = el("input", { id: "question", type: "text", autocomplete: "off", maxlength: "500",
    placeholder: text.placeholder });
  const form = el("form", { class: "composer" },
    el("label", { for: "question", class: "visually-hidden" }, text.input), input,
    el("button", { type: "submit", class: "icon-button send", "aria-label": text.send }, icon(ICONS.send)));
  const panel = el("section", { id: "panel", class: "panel", role: "dialog", "aria-labelledby": "title", hidden: "" },
    el("div", { class: "header" }, el("h2", { id: "title" }, title), personButton, closeButton),
    status, log, typing, form);
  const launcherIcon = icon(ICONS.chat);
  const launcher = el("button", { type: "button", class: "icon-button launcher", "aria-label": text.launcher,
    "aria-controls": "panel", "aria-expanded": "false" }, launcherIcon);
  root.append(panel, launcher);
  shadow.append(stylesheet, root);
  applyColours();
  // Shown once styled: an unstyled flash of the widget would cover the page.
  stylesheet.addEventListener("load", () => {
    root.hidden = false;
    scrollToLatest();
  });

  function applyColours() {
    const colours = { accentColor: "--clinic-chat-accent", accentTextColor: "--clinic-chat-accent-text" };
    for (const [option, property] of Object.entries(colours)) {
      const value = options[option];
      // CSSOM writes are allowed under style-src 'self', unlike a style attribute.
      if (value && CSS.supports("color", value)) host.style.setProperty(property, value);
    }
  }

  // ---- Rendering messages: simple markdown, built as DOM nodes ----

  function safeUrl(href) {
    try {
      const url = new URL(href, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url : null;
    } catch {
      return null;
    }
  }

  function link(label, href) {
    const url = safeUrl(href);
    if (!url) return label;
    const anchor = el("a", { href: url.href }, label);
    if (url.origin !== location.origin) {
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
      anchor.append(el("span", { class: "visually-hidden" }, ` ${text.newTab}`));
    }
    return anchor;
  }

  function appendInline(parent, source) {
    let done = 0;
    for (const match of source.matchAll(INLINE_MARKDOWN)) {
      const [whole, label, href, strong, emphasis, bareUrl] = match;
      parent.append(source.slice(done, match.index));
      if (label !== undefined) parent.append(link(label, href));
      else if (strong !== undefined) parent.append(el("strong", {}, strong));
      else if (emphasis !== undefined) parent.append(el("em", {}, emphasis));
      else parent.append(link(bareUrl, bareUrl));
      done = match.index + whole.length;
    }
    parent.append(source.slice(done));
  }

  // Lines starting "- ", "* " or "1. " make a list; other lines a paragraph; a blank line ends either.
  function appendMarkdown(parent, source) {
    let paragraph = null;
    let list = null;
    for (const line of source.split("\n")) {
      if (!line.trim()) {
        paragraph = list = null;
      } else if (LIST_ITEM.test(line)) {
        if (!list) parent.append(list = el(/^\s*\d/.test(line) ? "ol" : "ul"));
        const item = el("li");
        appendInline(item, line.replace(LIST_ITEM, ""));
        list.append(item);
        paragraph = null;
      } else {
        if (paragraph) paragraph.append(el("br"));
        else parent.append(paragraph = el("p"));
        appendInline(paragraph, line);
        list = null;
      }
    }
  }

  function renderMessage(message) {
    const fromVisitor = message.from === "user";
    const bubble = el("div", { class: `message ${fromVisitor ? "from-visitor" : "from-assistant"}` },
      el("span", { class: "visually-hidden" }, fromVisitor ? text.you : text.bot));
    if (fromVisitor) bubble.append(el("p", {}, String(message.text)));
    else appendMarkdown(bubble, String(message.text));
    return bubble;
  }

  // Quick replies belong to the assistant's latest message and go once the visitor answers.
  function showQuickReplies() {
    log.querySelector(".replies")?.remove();
    const last = state.messages[state.messages.length - 1];
    if (!last || last.from === "user" || !last.replies?.length) return;
    const group = el("div", { class: "replies", role: "group", "aria-label": text.suggestions });
    for (const reply of last.replies) {
      const button = el("button", { type: "button" }, reply.title);
      button.addEventListener("click", () => {
        send(reply.payload, reply.title);
        input.focus();
      });
      group.append(button);
    }
    log.append(group);
  }

  function scrollToLatest() {
    log.scrollTop = log.scrollHeight;
  }

  // Appended one by one, never re-rendered, so screen readers announce only what is new.
  function addMessage(message) {
    state.messages.push(message);
    saveState();
    log.querySelector(".replies")?.remove();
    log.append(renderMessage(message));
    showQuickReplies();
    scrollToLatest();
  }

  function setTyping(active) {
    clearTimeout(typingTimer);
    if (!active) {
      typing.replaceChildren();
      return;
    }
    typing.replaceChildren(el("span", { class: "visually-hidden" }, text.typing),
      el("span", { class: "dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")));
    typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
  }

  function setOnline(online) {
    connected = online;
    status.textContent = online ? "" : text.offline;
    if (!online) setTyping(false);
  }

  // ---- Talking to Rasa's socket.io channel ----

  function loadSocketIo() {
    if (window.io) return Promise.resolve(window.io);
    return new Promise((resolve, reject) => {
      const tag = el("script", { src: new URL("socket.io.min.js", assetBase).href });
      tag.addEventListener("load", () => resolve(window.io));
      tag.addEventListener("error", reject);
      document.head.append(tag);
    });
  }

  // Only once the visitor opens the chat: most page views never cost the server a connection.
  function connect() {
    if (socketReady) return;
    socketReady = loadSocketIo().then((io) => {
      // WebSocket first: one round trip and no CORS; long-polling only where a proxy blocks WebSockets.
      const connection = io(server, {
        path: options.socketPath || "/socket.io/",
        transports: ["websocket", "polling"],
        tryAllTransports: true,
      });
      connection.on("connect", () => connection.emit("session_request", { session_id: state.sessionId }));
      connection.on("session_confirm", (sessionId) => {
        state.sessionId = sessionId;
        saveState();
        setOnline(true);
        flushOutbox(connection);
      });
      connection.on("bot_uttered", receive);
      connection.on("connect_error", () => {
        setOnline(false);
        // Refused rather than unreachable: socket.io won't retry, and whoever runs the site needs to know why.
        if (!connection.active) {
          console.warn(`Clinic chat: ${server} refused ${location.origin}; add it to WIDGET_ALLOWED_ORIGINS.`);
        }
      });
      connection.on("disconnect", (reason) => {
        setOnline(false);
        // socket.io retries by itself except after a server-side disconnect, e.g. a Rasa restart.
        if (reason === "io server disconnect") connection.connect();
      });
      return connection;
    }).catch(() => setOnline(false));
  }

  function flushOutbox(connection) {
    while (connected && outbox.length) {
      connection.emit("user_uttered", { message: outbox.shift(), session_id: state.sessionId });
      setTyping(true);
    }
  }

  function send(payload, shownAs) {
    if (shownAs) addMessage({ from: "user", text: shownAs, replies: [] });
    outbox.push(payload);
    connect();
    socketReady.then((connection) => connection && flushOutbox(connection));
  }

  function receive(message) {
    setTyping(false);
    if (!message || typeof message.text !== "string") return; // this assistant sends text and quick replies only
    const replies = (Array.isArray(message.quick_replies) ? message.quick_replies : [])
      .filter((reply) => typeof reply?.title === "string" && typeof reply.payload === "string")
      .map(({ title: replyTitle, payload }) => ({ title: replyTitle, payload }));
    addMessage({ from: "bot", text: message.text, replies });
  }

  // ---- Opening, closing and the keyboard ----

  function setOpen(open, moveFocus) {
    state.open = open;
    saveState();
    panel.hidden = !open;
    root.classList.toggle("is-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcherIcon.firstChild.setAttribute("d", open ? ICONS.collapse : ICONS.chat);
    if (open) {
      connect();
      if (!state.messages.length && !greeted) {
        greeted = true;
        send("/greet");
      }
      scrollToLatest();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", () => setOpen(!state.open, true));
  closeButton.addEventListener("click", () => setOpen(false, true));
  personButton.addEventListener("click", () => {
    send("/talk_to_person", text.person);
    input.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") setOpen(false, true);
  });
  log.addEventListener("click", (event) => {
    // On a phone the chat covers the page: get out of the way of the section a link opens.
    if (event.target.closest("a") && FULL_SCREEN.matches) setOpen(false, false);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    send(question, question);
  });

  function start() {
    for (const message of state.messages) log.append(renderMessage(message));
    showQuickReplies();
    document.body.append(host);
    if (state.open) setOpen(true, false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
