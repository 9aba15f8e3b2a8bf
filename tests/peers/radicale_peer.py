#!/usr/bin/env python3
"""Launcher for a real Radicale CalDAV server (PyPI ``radicale``) used as the CalDAV peer.

It writes a Radicale config and a plain htpasswd file into the storage folder, starts
``python -m radicale`` on 127.0.0.1, creates ``/<user>/calendar/`` for every user with
MKCALENDAR when it is missing, PUTs the seeded busy VEVENTs (``If-None-Match: *``; with
``"bulk": true`` in a seed, one PUT of the whole calendar per user instead, which replaces what
that calendar held and is how large seeds stay fast), then prints
``radicale listening on http://127.0.0.1:PORT``. With ``--control-port`` it also serves the
peers' inspection endpoints (``/_peer/health|state|reset|seed|config``) on a second port.
The storage folder is the persistent state: start again with the same ``--storage`` and
everything is still there.

Run: ``python3 tests/peers/radicale_peer.py --port 5232 --storage .dynchat/radicale
--user agent1:secret1 --user agent2:secret2 [--seed seed.json] [--control-port 9105]``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NAME = "radicale"
USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
UID_RE = re.compile(r"^[A-Za-z0-9@._-]{1,200}$")
MKCALENDAR_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:set><D:prop><D:displayname>{name}</D:displayname>"
    '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
    "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
)


class PeerError(Exception):
    """A launcher failure: bad seed, Radicale refused a call, Radicale did not start."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ics_time(text: Any, what: str) -> str:
    """``2026-11-25T09:00:00Z`` (any RFC 3339 offset) -> ``20261125T090000Z``."""
    if not isinstance(text, str):
        raise PeerError(400, f"{what} must be an RFC 3339 date-time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PeerError(400, f"{what} must be an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise PeerError(400, f"{what} needs an offset or Z")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def build_ics(event: dict[str, Any]) -> str:
    """A one-VEVENT VCALENDAR from a seed entry (UTC times), CRLF line ends."""
    start = ics_time(event.get("start"), "start")
    end = ics_time(event.get("end"), "end")
    if end <= start:
        raise PeerError(400, "end must be after start")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//dynchat//radicale-peer//EN",
        "BEGIN:VEVENT",
        f"UID:{event['uid']}",
        f"DTSTAMP:{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{escape_text(str(event.get('summary', 'Busy')))}",
    ]
    for key, prop in (("status", "STATUS"), ("transp", "TRANSP"), ("rrule", "RRULE")):
        value = event.get(key)
        if value is not None:
            if not isinstance(value, str) or not re.match(r"^[A-Z0-9=;,:+-]+$", value):
                raise PeerError(400, f"{key} must be an iCalendar value like BUSY or FREQ=DAILY")
            lines.append(f"{prop}:{value}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def unfold(ics: str) -> list[str]:
    out: list[str] = []
    for line in ics.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif line:
            out.append(line)
    return out


def summarize_ics(ics: str) -> dict[str, Any]:
    """UID, times, status and attendees of the first VEVENT, for ``/_peer/state``."""
    info: dict[str, Any] = {"attendees": []}
    in_event = False
    for line in unfold(ics):
        name_params, _, value = line.partition(":")
        name = name_params.split(";")[0].upper()
        if line == "BEGIN:VEVENT":
            in_event = True
        elif line == "END:VEVENT":
            break
        elif in_event and name == "ATTENDEE":
            info["attendees"].append({"value": value, "params": name_params})
        elif in_event and name in ("UID", "DTSTART", "DTEND", "SUMMARY", "STATUS", "TRANSP"):
            info[name.lower()] = value
            if name in ("DTSTART", "DTEND") and ";" in name_params:
                info[name.lower() + "_params"] = name_params.split(";", 1)[1]
    return info


class Radicale:
    """One Radicale child process and the CalDAV calls the launcher makes to it."""

    def __init__(self, port: int, storage: Path, users: dict[str, str], verbose: bool) -> None:
        self.port = port
        self.storage = storage
        self.users = users
        self.verbose = verbose
        self.lock = threading.RLock()
        self.proc: subprocess.Popen[bytes] | None = None

    # -- process -------------------------------------------------------------

    def write_files(self) -> Path:
        self.storage.mkdir(parents=True, exist_ok=True)
        users_file = self.storage / "users"
        users_file.write_text("".join(f"{u}:{p}\n" for u, p in sorted(self.users.items())))
        config = self.storage / "radicale.conf"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "max_connections = 20\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {users_file}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.storage / 'collections'}\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            f"level = {'info' if self.verbose else 'warning'}\n"
        )
        return config

    def start(self, timeout: float = 30.0) -> None:
        config = self.write_files()
        out = None if self.verbose else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=None if self.verbose else subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 1):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.stderr else ""
                raise PeerError(500, f"radicale exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise PeerError(500, "radicale did not start in time") from None
                time.sleep(0.1)
        if self.proc.stderr is not None:
            # Keep draining Radicale's warnings so the pipe never fills and blocks it.
            threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    @staticmethod
    def _drain(pipe: Any) -> None:
        for _ in iter(lambda: pipe.read(4096), b""):
            pass

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    # -- CalDAV --------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        user: str,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        auth = base64.b64encode(f"{user}:{self.users[user]}".encode()).decode()
        hdrs = {"Authorization": f"Basic {auth}", **(headers or {})}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body.encode("utf-8") if body else None, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def ensure_calendar(self, user: str) -> bool:
        """MKCALENDAR ``/<user>/calendar/`` unless it exists; True when it was created."""
        path = f"/{user}/calendar/"
        status, _ = self.call("PROPFIND", path, user, headers={"Depth": "0"})
        if status == 207:
            return False
        status, body = self.call(
            "MKCALENDAR",
            path,
            user,
            MKCALENDAR_BODY.format(name=user),
            {"Content-Type": "application/xml; charset=utf-8"},
        )
        if status != 201:
            raise PeerError(502, f"MKCALENDAR {path} answered {status}: {body[:300]!r}")
        return True

    def put_event(self, event: dict[str, Any]) -> str:
        user = event.get("user")
        if user not in self.users:
            raise PeerError(400, f"events[].user {user!r} is not a configured user")
        uid = event.get("uid")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise PeerError(400, "events[].uid must match [A-Za-z0-9@._-]{1,200}")
        ics = event["ics"] if isinstance(event.get("ics"), str) else build_ics(event)
        status, body = self.call(
            "PUT",
            f"/{user}/calendar/{uid}.ics",
            user,
            ics,
            {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        )
        if status == 412:
            return "exists"
        if status not in (201, 204):
            raise PeerError(502, f"PUT {uid}.ics answered {status}: {body[:300]!r}")
        return "created"

    def put_calendar(self, user: str, events: list[dict[str, Any]]) -> None:
        """One PUT of a whole VCALENDAR to ``/<user>/calendar/``: Radicale replaces the
        collection's items with the given events (each becomes ``<uid>.ics``)."""
        body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//dynchat//radicale-peer//EN"]
        for event in events:
            uid = event.get("uid")
            if not isinstance(uid, str) or not UID_RE.match(uid):
                raise PeerError(400, "events[].uid must match [A-Za-z0-9@._-]{1,200}")
            lines = build_ics(event).split("\r\n")
            body += lines[lines.index("BEGIN:VEVENT") : lines.index("END:VEVENT") + 1]
        body.append("END:VCALENDAR")
        status, answer = self.call(
            "PUT",
            f"/{user}/calendar/",
            user,
            "\r\n".join(body) + "\r\n",
            {"Content-Type": "text/calendar; charset=utf-8"},
        )
        if status not in (200, 201, 204):
            raise PeerError(502, f"PUT /{user}/calendar/ answered {status}: {answer[:300]!r}")

    def seed(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            added_users = []
            for entry in body.get("users", []) or []:
                name, password = entry.get("name"), entry.get("password")
                if not isinstance(name, str) or not USER_RE.match(name):
                    raise PeerError(400, "users[].name must match [A-Za-z0-9._-]")
                if not isinstance(password, str) or not password or "\n" in password:
                    raise PeerError(400, "users[].password must be a one-line string")
                self.users[name] = password
                added_users.append(name)
            if added_users:
                self.write_files()  # Radicale re-reads the htpasswd file on each login.
            created = [u for u in self.users if self.ensure_calendar(u)]
            results = {}
            if body.get("bulk") is True:
                by_user: dict[str, list[dict[str, Any]]] = {}
                for event in body.get("events", []) or []:
                    if not isinstance(event, dict) or event.get("user") not in self.users:
                        raise PeerError(400, "events[] must be objects of configured users")
                    by_user.setdefault(str(event["user"]), []).append(event)
                for user, events in by_user.items():
                    self.put_calendar(user, events)
                    for event in events:
                        results[f"{user}/{event.get('uid')}"] = "created"
                return {
                    "users": sorted(self.users),
                    "calendars_created": created,
                    "events": results,
                }
            for event in body.get("events", []) or []:
                if not isinstance(event, dict):
                    raise PeerError(400, "events[] must be objects")
                results[f"{event.get('user')}/{event.get('uid')}"] = self.put_event(event)
            return {"users": sorted(self.users), "calendars_created": created, "events": results}

    def reset(self) -> dict[str, Any]:
        with self.lock:
            for user in self.users:
                status, _ = self.call("DELETE", f"/{user}/calendar/", user)
                if status not in (200, 204, 404):
                    raise PeerError(502, f"DELETE /{user}/calendar/ answered {status}")
                self.ensure_calendar(user)
            return {"ok": True}

    def state(self) -> dict[str, Any]:
        calendars: dict[str, list[dict[str, Any]]] = {}
        root = self.storage / "collections" / "collection-root"
        for user in sorted(self.users):
            folder = root / user / "calendar"
            items = []
            if folder.is_dir():
                for file in sorted(folder.glob("*.ics")):
                    raw = file.read_text(encoding="utf-8", errors="replace")
                    items.append(
                        {"href": f"/{user}/calendar/{file.name}", **summarize_ics(raw), "ics": raw}
                    )
            calendars[user] = items
        return {
            "base_url": f"http://127.0.0.1:{self.port}",
            "users": sorted(self.users),
            "calendars": calendars,
        }


def control_handler(rad: Radicale) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        """``/_peer/*`` for the Radicale peer."""

        protocol_version = "HTTP/1.1"
        server_version = "radicale-peer/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            if rad.verbose:
                sys.stderr.write(f"radicale-peer: {format % args}\n")

        def reply(self, status: int, obj: Any) -> None:
            body = json.dumps(obj, indent=1).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def body_json(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 4_000_000:
                raise PeerError(413, "body too large")
            raw = self.rfile.read(length) if length else b""
            try:
                value = json.loads(raw) if raw.strip() else {}
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise PeerError(400, "body is not JSON") from None
            if not isinstance(value, dict):
                raise PeerError(400, "body must be a JSON object")
            return value

        def do_GET(self) -> None:
            self.dispatch()

        def do_POST(self) -> None:
            self.dispatch()

        def dispatch(self) -> None:
            path = urlsplit(self.path).path
            try:
                body = self.body_json() if self.command == "POST" else {}
                if path == "/_peer/health" and self.command == "GET":
                    alive = rad.proc is not None and rad.proc.poll() is None
                    self.reply(200 if alive else 503, {"ok": alive, "name": "radicale-peer"})
                elif path == "/_peer/state" and self.command == "GET":
                    self.reply(200, rad.state())
                elif path == "/_peer/reset" and self.command == "POST":
                    self.reply(200, rad.reset())
                elif path == "/_peer/seed" and self.command == "POST":
                    self.reply(200, rad.seed(body))
                elif path == "/_peer/config" and self.command == "POST":
                    if body:
                        raise PeerError(
                            400,
                            "Radicale is a real server: it has no fault switches; "
                            "add users with /_peer/seed",
                        )
                    self.reply(200, {"config": {"port": rad.port, "storage": str(rad.storage)}})
                else:
                    self.reply(404, {"error": {"code": "not_found", "message": path}})
            except PeerError as err:
                self.reply(err.status, {"error": {"code": "peer", "message": err.message}})
            except (OSError, http.client.HTTPException) as err:
                self.reply(502, {"error": {"code": "radicale_unreachable", "message": str(err)}})

    return Control


def parse_users(values: list[str]) -> dict[str, str]:
    users: dict[str, str] = {}
    for value in values:
        name, sep, password = value.partition(":")
        if not sep or not USER_RE.match(name) or not password:
            raise SystemExit(f"--user expects NAME:PASSWORD, got {value!r}")
        users[name] = password
    return users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5232, help="0 picks a free port")
    parser.add_argument("--storage", required=True, help="folder for collections, config, users")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        help="NAME:PASSWORD (repeatable); default agent1:secret1 and agent2:secret2",
    )
    parser.add_argument("--seed", help='JSON file: {"users":[..],"events":[..]} (see README)')
    parser.add_argument("--control-port", type=int, help="also serve /_peer/* on this port")
    parser.add_argument("--fresh", action="store_true", help="empty the storage folder first")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    storage = Path(args.storage).resolve()
    if args.fresh and storage.exists():
        shutil.rmtree(storage)
    users_file = storage / "users"
    users: dict[str, str] = {}
    if users_file.exists():  # keep users added earlier through /_peer/seed
        for line in users_file.read_text().splitlines():
            name, _, password = line.partition(":")
            if name and password:
                users[name] = password
    users.update(parse_users(args.user or ["agent1:secret1", "agent2:secret2"]))
    rad = Radicale(args.port or free_port(), storage, users, args.verbose)

    def stop(signum: int, _frame: Any) -> None:
        rad.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        rad.start()
        seed: dict[str, Any] = {}
        if args.seed:
            with open(args.seed, encoding="utf-8") as fh:
                seed = json.load(fh)
        rad.seed(seed)
    except (PeerError, OSError, json.JSONDecodeError) as err:
        rad.stop()
        print(f"radicale-peer: {err}", file=sys.stderr, flush=True)
        return 1
    control = None
    if args.control_port is not None:
        control = ThreadingHTTPServer(("127.0.0.1", args.control_port), control_handler(rad))
        control.daemon_threads = True
        threading.Thread(
            target=control.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        ).start()
        print(f"radicale-peer control on http://127.0.0.1:{control.server_address[1]}", flush=True)
    print(f"{NAME} listening on http://127.0.0.1:{rad.port}", flush=True)
    code = rad.proc.wait() if rad.proc is not None else 1
    if control is not None:
        control.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
