#!/usr/bin/env python3
"""Mail catcher: a real SMTP server (aiosmtpd) that keeps every message, plus an HTTP view.

SMTP on 127.0.0.1 (EHLO, SIZE, 8BITMIME, SMTPUTF8; no AUTH, no STARTTLS) enforces the dialogue
like a real server (RCPT before MAIL is 503, oversize is 552, BODY must be 7BIT/8BITMIME). Each
accepted message is kept with its envelope, raw RFC 5322 text, subject and MIME parts (content
types and parameters such as ``method=REQUEST``), and served at ``GET /_peer/state``. ``GET /``
is a human page listing the messages for the demo.

Run: ``python3 tests/peers/mail_catcher.py --smtp-port 2525 --http-port 9104 [--state-file f]``.
It prints ``mail-catcher listening on http://127.0.0.1:HTTP_PORT (smtp 127.0.0.1:SMTP_PORT)``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

NAME = "mail-catcher"
DEFAULT_MAX_SIZE = 10 * 1024 * 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_config(max_size: int) -> dict[str, Any]:
    return {
        "max_size": max_size,
        # recipients answered 550 at RCPT
        "reject_rcpt": [],
        # the next N DATA commands are answered 451 (temporary failure) and not kept
        "fail_next_data": 0,
    }


def protocol_warnings(raw: bytes, mail_options: list[str]) -> list[str]:
    """Things a strict relay would object to; kept so tests can assert the sender is clean."""
    warnings = []
    if any(b > 127 for b in raw) and "BODY=8BITMIME" not in mail_options:
        warnings.append("8-bit bytes in a message not sent with BODY=8BITMIME")
    lines = raw.split(b"\r\n")
    if any(b"\n" in line or b"\r" in line for line in lines):
        warnings.append("bare CR or LF line ending (RFC 5322 requires CRLF)")
    if any(len(line) > 998 for line in lines):
        warnings.append("line longer than 998 octets (RFC 5322 2.1.1)")
    return warnings


def describe_parts(msg: EmailMessage) -> list[dict[str, Any]]:
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        raw_params = part.get_params(header="content-type") or []
        params = {str(k).lower(): str(v) for k, v in raw_params[1:]}
        info: dict[str, Any] = {
            "content_type": ctype,
            "params": params,
            "content_transfer_encoding": part.get("Content-Transfer-Encoding", "7bit").lower(),
            "filename": part.get_filename(),
            "disposition": part.get_content_disposition(),
        }
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        info["size"] = len(payload)
        if part.get_content_maintype() == "text":
            charset = part.get_content_charset() or "us-ascii"
            try:
                info["text"] = payload.decode(charset, errors="replace")
            except LookupError:
                info["text"] = payload.decode("utf-8", errors="replace")
        parts.append(info)
    return parts


def parse_message(
    raw: bytes, mail_from: str, rcpt_tos: list[str], mail_options: list[str], helo: str | None
) -> dict[str, Any]:
    # With policy.default the parser builds EmailMessage objects.
    msg: EmailMessage = message_from_bytes(raw, policy=policy.default)
    defects = [type(d).__name__ for d in msg.defects]

    def header(name: str) -> str | None:
        try:
            value = msg.get(name)
        except (ValueError, IndexError) as err:  # malformed header: keep going, note it
            defects.append(f"{name}: {err}")
            return None
        return str(value) if value is not None else None

    return {
        "received_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "helo": helo,
        "mail_from": mail_from,
        "rcpt_tos": list(rcpt_tos),
        "mail_options": list(mail_options),
        "size": len(raw),
        "subject": header("Subject"),
        "from": header("From"),
        "to": header("To"),
        "message_id": header("Message-ID"),
        "headers": [[k, str(v)] for k, v in msg.raw_items()],
        "parts": describe_parts(msg),
        "defects": defects,
        "warnings": protocol_warnings(raw, [o.upper() for o in mail_options]),
        "raw": raw.decode("utf-8", errors="replace"),
    }


def unparsed_message(raw: bytes, envelope: Any, helo: str | None, err: Exception) -> dict[str, Any]:
    return {
        "received_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "helo": helo,
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "mail_options": list(envelope.mail_options),
        "size": len(raw),
        "subject": None,
        "from": None,
        "to": None,
        "message_id": None,
        "headers": [],
        "parts": [],
        "defects": [f"parser failed: {type(err).__name__}: {err}"],
        "warnings": protocol_warnings(raw, [o.upper() for o in envelope.mail_options]),
        "raw": raw.decode("utf-8", errors="replace"),
    }


class Store:
    """Messages and fault config behind one lock, persisted to ``state_file``."""

    def __init__(self, state_file: str | None, max_size: int) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.max_size = max_size
        self.messages: list[dict[str, Any]] = []
        self.config = default_config(max_size)
        self.next_id = 1
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as fh:
                loaded = json.load(fh)
            self.messages = loaded.get("messages", [])
            self.config = {**self.config, **loaded.get("config", {})}
            self.next_id = 1 + max((m.get("id", 0) for m in self.messages), default=0)

    def save(self) -> None:
        if not self.state_file:
            return
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"messages": self.messages, "config": self.config}, fh, indent=1)
        os.replace(tmp, self.state_file)

    def add(self, message: dict[str, Any]) -> int:
        with self.lock:
            message["id"] = self.next_id
            self.next_id += 1
            self.messages.append(message)
            self.save()
            return int(message["id"])


class CatchHandler:
    """aiosmtpd hooks: RCPT may be refused by config, DATA is parsed and stored."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.store.lock:
            rejected = address.lower() in (a.lower() for a in self.store.config["reject_rcpt"])
        if rejected:
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.store.lock:
            if self.store.config["fail_next_data"] > 0:
                self.store.config["fail_next_data"] -= 1
                self.store.save()
                return "451 4.3.0 Temporary failure, try again later"
        raw = envelope.original_content or b""
        try:
            message = parse_message(
                raw, envelope.mail_from, envelope.rcpt_tos, envelope.mail_options, session.host_name
            )
        except Exception as err:
            message = unparsed_message(raw, envelope, session.host_name, err)
        message_id = self.store.add(message)
        return f"250 2.0.0 OK queued as {message_id}"


PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;"
    "text-align:left;vertical-align:top}pre{white-space:pre-wrap;background:#f6f6f6;"
    "padding:.5rem;max-height:30rem;overflow:auto}"
)


def part_text(part: dict[str, Any]) -> str:
    return str(part["text"]) if "text" in part else f"({part['size']} bytes)"


def render_page(messages: list[dict[str, Any]]) -> str:
    esc = html.escape
    rows = []
    for m in reversed(messages):
        parts = ", ".join(
            esc(
                p["content_type"]
                + (f"; method={p['params']['method']}" if "method" in p["params"] else "")
            )
            for p in m["parts"]
        )
        details = "".join(
            f"<h4>{esc(p['content_type'])}</h4><pre>{esc(part_text(p))}</pre>" for p in m["parts"]
        )
        rows.append(
            f"<tr><td>{m['id']}</td><td>{esc(m['received_at'])}</td>"
            f"<td>{esc(m['mail_from'] or '')}</td><td>{esc(', '.join(m['rcpt_tos']))}</td>"
            f"<td><details><summary>{esc(m['subject'] or '(no subject)')}</summary>{details}"
            f"<h4>raw</h4><pre>{esc(m['raw'])}</pre></details></td><td>{parts}</td></tr>"
        )
    body = "".join(rows) or '<tr><td colspan="6">No messages yet.</td></tr>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Mail catcher ({len(messages)})</title><style>{PAGE_STYLE}</style></head><body>"
        f"<h1>Mail catcher: {len(messages)} message(s)</h1>"
        "<table><thead><tr><th>#</th><th>received</th><th>envelope from</th><th>envelope to</th>"
        f"<th>subject</th><th>parts</th></tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def http_handler(store: Store, controller: Controller) -> type[BaseHTTPRequestHandler]:
    class Http(BaseHTTPRequestHandler):
        """``GET /`` page and ``/_peer/*`` JSON endpoints."""

        protocol_version = "HTTP/1.1"
        server_version = "mail-catcher/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def reply(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def reply_json(self, status: int, obj: Any) -> None:
            self.reply(
                status, json.dumps(obj, indent=1).encode("utf-8"), "application/json; charset=utf-8"
            )

        def body_json(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 20_000_000:
                raise ValueError("body too large")
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw.strip() else {}

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            with store.lock:
                if path == "/":
                    page = render_page(store.messages).encode("utf-8")
                    self.reply(200, page, "text/html; charset=utf-8")
                elif path == "/_peer/health":
                    self.reply_json(200, {"ok": True, "name": NAME, "smtp_port": controller.port})
                elif path == "/_peer/state":
                    self.reply_json(200, {"messages": store.messages, "config": store.config})
                else:
                    self.reply_json(404, {"error": {"code": "not_found", "message": path}})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            try:
                body = self.body_json()
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
            except (ValueError, UnicodeDecodeError) as err:
                self.reply_json(400, {"error": {"code": "bad_body", "message": str(err)}})
                return
            with store.lock:
                if path == "/_peer/reset":
                    store.messages = []
                    store.next_id = 1
                    store.config = default_config(store.max_size)
                    controller.SMTP_kwargs["data_size_limit"] = store.max_size
                    store.save()
                    self.reply_json(200, {"ok": True})
                elif path == "/_peer/config":
                    error = apply_config(store, controller, body)
                    if error:
                        self.reply_json(400, {"error": {"code": "bad_config", "message": error}})
                    else:
                        store.save()
                        self.reply_json(200, {"config": store.config})
                elif path == "/_peer/seed":
                    ids = []
                    for item in body.get("messages", []) or []:
                        raw = item.get("raw") if isinstance(item, dict) else None
                        if not isinstance(raw, str):
                            self.reply_json(
                                400, {"error": {"code": "bad_seed", "message": "messages[].raw"}}
                            )
                            return
                        msg = parse_message(
                            raw.encode("utf-8"),
                            item.get("mail_from", ""),
                            item.get("rcpt_tos", []),
                            [],
                            "seed",
                        )
                        ids.append(store.add(msg))
                    self.reply_json(200, {"ids": ids})
                else:
                    self.reply_json(404, {"error": {"code": "not_found", "message": path}})

    return Http


def apply_config(store: Store, controller: Controller, body: dict[str, Any]) -> str | None:
    cfg = store.config
    unknown = sorted(set(body) - set(default_config(0)))
    if unknown:
        return f"unknown config keys: {', '.join(unknown)}"
    if "reject_rcpt" in body:
        value = body["reject_rcpt"]
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            return "reject_rcpt must be a list of addresses"
        cfg["reject_rcpt"] = value
    if "fail_next_data" in body:
        value = body["fail_next_data"]
        if not isinstance(value, int) or value < 0:
            return "fail_next_data must be a non-negative integer"
        cfg["fail_next_data"] = value
    if "max_size" in body:
        value = body["max_size"]
        if not isinstance(value, int) or value < 1024:
            return "max_size must be an integer >= 1024"
        cfg["max_size"] = value
        # Applies to connections opened from now on (aiosmtpd builds one SMTP per connection).
        controller.SMTP_kwargs["data_size_limit"] = value
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-port", type=int, default=2525, help="0 picks a free port")
    parser.add_argument("--http-port", type=int, default=9104, help="0 picks a free port")
    parser.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE, help="SMTP SIZE limit")
    parser.add_argument("--state-file", help="JSON file messages are loaded from and saved to")
    args = parser.parse_args(argv)
    store = Store(args.state_file, args.max_size)
    controller = Controller(
        CatchHandler(store),
        hostname="127.0.0.1",
        port=args.smtp_port or free_port(),
        server_hostname="mail-catcher.local",
        ident="dynchat mail-catcher ESMTP",
        data_size_limit=store.config["max_size"],
        enable_SMTPUTF8=True,
        decode_data=False,
    )
    controller.start()

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server = ThreadingHTTPServer(("127.0.0.1", args.http_port), http_handler(store, controller))
    server.daemon_threads = True
    print(
        f"{NAME} listening on http://127.0.0.1:{server.server_address[1]} "
        f"(smtp 127.0.0.1:{controller.port})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
