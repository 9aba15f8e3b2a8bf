#!/usr/bin/env python3
"""Local stand-in for Google OAuth 2.0 and the Google Calendar API v3, for tests and the demo.

It answers the calls dynchat makes (token exchange and refresh, a consent redirect that skips the
login page, free/busy, event insert/get/list/patch/delete) with Google's status codes and JSON
error shapes, and exposes what it received under ``/_peer/*``. Single file, stdlib only.

Run: ``python3 tests/peers/google_peer.py --port 9102 [--state-file s.json] [--seed seed.json]``.
It prints ``google-peer listening on http://127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NAME = "google-peer"
MAX_BODY = 1_000_000
DEFAULT_CLIENT_ID = "dynchat-local-client"
DEFAULT_CLIENT_SECRET = "dynchat-local-secret"
EVENT_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
RFC3339_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEND_UPDATES = ("all", "externalOnly", "none")


# ---------------------------------------------------------------------------
# time helpers


def parse_rfc3339(text: Any, *, need_offset: bool = True) -> datetime | None:
    """Parse an RFC 3339 date-time; return None when malformed (or offset missing when needed)."""
    if not isinstance(text, str):
        return None
    m = RFC3339_RE.match(text.strip())
    if not m:
        return None
    day, clock, frac, offset = m.groups()
    if offset is None and need_offset:
        return None
    micro = (frac or ".0")[1:7].ljust(6, "0")
    iso = f"{day}T{clock}.{micro}"
    if offset:
        iso += "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def zone(name: Any) -> ZoneInfo | None:
    """Return the IANA zone called ``name`` or None."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def utc_text(moment: datetime) -> str:
    """Format an instant as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zoned_text(moment: datetime, tz: ZoneInfo | None) -> str:
    """Format an instant like Google does: ``Z`` for UTC, else the offset of ``tz``."""
    if tz is None or tz.key in ("UTC", "Etc/UTC"):
        return utc_text(moment)
    return moment.astimezone(tz).isoformat(timespec="seconds")


def now_utc() -> datetime:
    return datetime.now(UTC)


def merge_intervals(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Merge overlapping or touching intervals, sorted by start."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# ---------------------------------------------------------------------------
# errors in Google's shapes


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    def __init__(self, status: int, reason: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"domain": "global", "reason": self.reason, "message": self.message}
        err.update(self.extra)
        out: dict[str, Any] = {"errors": [err], "code": self.status, "message": self.message}
        if self.status == 401:
            out["status"] = "UNAUTHENTICATED"
        return {"error": out}


class OAuthError(Exception):
    """An OAuth token-endpoint error: ``{"error": .., "error_description": ..}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def bad_request(message: str, reason: str = "badRequest") -> ApiError:
    return ApiError(400, reason, message)


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


# ---------------------------------------------------------------------------
# state


def empty_state() -> dict[str, Any]:
    return {
        "clients": {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET},
        # email -> {"email", "time_zone", "calendars": [extra calendar ids]}
        "accounts": {},
        # refresh token -> {"email", "client_id", "scope", "revoked", "issued_at"}
        "refresh_tokens": {},
        # access token -> {"email", "client_id", "expires_at" (epoch s), "scope"}
        "access_tokens": {},
        # code -> {"email", "client_id", "redirect_uri", "scope", "offline", "expires_at"}
        "codes": {},
        # calendar id -> {event id -> event resource (+ "_start"/"_end" UTC text)}
        "events": {},
        # what Google would have emailed: {"event_id", "calendar", "method", "to", "send_updates"}
        "sent_updates": [],
        "token_requests": [],
        "request_counts": {},
        "config": default_config(),
    }


def default_config() -> dict[str, Any]:
    return {
        "access_token_ttl": 3600,
        "latency_ms": 0,
        "error_rate": 0.0,
        "error_status": 503,
        "error_seed": None,
        "fail_next": 0,
        # calendar id -> reason reported in free/busy "errors"
        "fail_freebusy": {},
    }


class Peer:
    """All mutable state behind one lock, persisted to ``state_file`` after each change."""

    def __init__(self, state_file: str | None) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.state = empty_state()
        self.rng = random.Random()
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as fh:
                loaded = json.load(fh)
            self.state.update(loaded)
            self.state["config"] = {**default_config(), **loaded.get("config", {})}
            self._reseed_rng()

    def _reseed_rng(self) -> None:
        seed = self.state["config"].get("error_seed")
        self.rng = random.Random(seed)

    def save(self) -> None:
        if not self.state_file:
            return
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def reset(self) -> None:
        self.state = empty_state()
        self._reseed_rng()

    # -- seed and config -------------------------------------------------

    def seed(self, body: dict[str, Any]) -> dict[str, Any]:
        st = self.state
        for client in body.get("clients", []) or []:
            cid, secret = client.get("client_id"), client.get("client_secret")
            if not isinstance(cid, str) or not isinstance(secret, str):
                raise bad_request("clients[] need client_id and client_secret")
            st["clients"][cid] = secret
        for acc in body.get("accounts", []) or []:
            email = acc.get("email")
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                raise bad_request("accounts[].email must be an email address")
            tz_name = acc.get("time_zone", "UTC")
            if zone(tz_name) is None:
                raise bad_request(f"unknown time_zone {tz_name!r}")
            extra = [c for c in acc.get("calendars", []) or [] if isinstance(c, str)]
            st["accounts"][email] = {"email": email, "time_zone": tz_name, "calendars": extra}
            for cal in [email, *extra]:
                st["events"].setdefault(cal, {})
            token = acc.get("refresh_token")
            if isinstance(token, str) and token:
                st["refresh_tokens"][token] = {
                    "email": email,
                    "client_id": acc.get("client_id", DEFAULT_CLIENT_ID),
                    "scope": acc.get("scope", "https://www.googleapis.com/auth/calendar"),
                    "revoked": False,
                    "issued_at": utc_text(now_utc()),
                }
        created = []
        for i, block in enumerate(body.get("busy", []) or []):
            cal = block.get("calendar")
            if not isinstance(cal, str) or cal not in st["events"]:
                raise bad_request(f"busy[{i}].calendar must be a seeded account or calendar")
            start = parse_rfc3339(block.get("start"))
            end = parse_rfc3339(block.get("end"))
            if start is None or end is None or end <= start:
                raise bad_request(f"busy[{i}] needs RFC 3339 start < end with offsets")
            event_id = block.get("id") or new_event_id()
            resource = {
                "summary": block.get("summary", "Busy"),
                "start": {"dateTime": utc_text(start), "timeZone": "UTC"},
                "end": {"dateTime": utc_text(end), "timeZone": "UTC"},
                "status": block.get("status", "confirmed"),
                "transparency": block.get("transparency", "opaque"),
            }
            event = self.make_event(cal, event_id, resource, start, end)
            st["events"][cal][event_id] = event
            created.append(event_id)
        return {"accounts": sorted(st["accounts"]), "busy_events": created}

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        cfg: dict[str, Any] = self.state["config"]
        unknown = sorted(
            set(body)
            - {
                "revoke",
                "expire_access_tokens",
                "error_rate",
                "error_seed",
                "fail_freebusy",
                *default_config(),
            }
        )
        if unknown:
            raise bad_request(f"unknown config keys: {', '.join(unknown)}")
        if "revoke" in body:
            emails = body["revoke"] if isinstance(body["revoke"], list) else [body["revoke"]]
            for info in self.state["refresh_tokens"].values():
                if info["email"] in emails:
                    info["revoked"] = True
            # Revoking the grant also kills its access tokens, as Google does.
            self.state["access_tokens"] = {
                t: i for t, i in self.state["access_tokens"].items() if i["email"] not in emails
            }
        if "expire_access_tokens" in body:
            self.state["access_tokens"] = {}
        for key in ("access_token_ttl", "latency_ms", "fail_next", "error_status"):
            if key in body:
                if not isinstance(body[key], int) or body[key] < 0:
                    raise bad_request(f"{key} must be a non-negative integer")
                cfg[key] = body[key]
        if "error_rate" in body:
            rate = body["error_rate"]
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise bad_request("error_rate must be between 0 and 1")
            cfg["error_rate"] = float(rate)
        if "error_seed" in body:
            cfg["error_seed"] = body["error_seed"]
            self._reseed_rng()
        if "fail_freebusy" in body:
            value = body["fail_freebusy"]
            if isinstance(value, str):
                value = {value: "backendError"}
            elif isinstance(value, list):
                value = {c: "backendError" for c in value}
            if not isinstance(value, dict):
                raise bad_request("fail_freebusy: calendar id, list of ids or {id: reason}")
            cfg["fail_freebusy"] = value
        return cfg

    # -- tokens ------------------------------------------------------------

    def issue_access_token(self, email: str, client_id: str, scope: str) -> dict[str, Any]:
        ttl = int(self.state["config"]["access_token_ttl"])
        token = "ya29.peer-" + secrets.token_urlsafe(24)
        self.state["access_tokens"][token] = {
            "email": email,
            "client_id": client_id,
            "scope": scope,
            "expires_at": time.time() + ttl,
        }
        out: dict[str, Any] = {
            "access_token": token,
            "expires_in": ttl,
            "scope": scope,
            "token_type": "Bearer",
        }
        if "openid" in scope.split() or "email" in scope.split():
            out["id_token"] = fake_id_token(email, client_id)
        return out

    def account_for_bearer(self, header: str | None) -> dict[str, Any]:
        if not header:
            raise ApiError(
                401,
                "required",
                "Request is missing required authentication credential. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                location="Authorization",
                locationType="header",
            )
        scheme, _, token = header.partition(" ")
        info = (
            self.state["access_tokens"].get(token.strip()) if scheme.lower() == "bearer" else None
        )
        if info is None or info["expires_at"] <= time.time():
            raise ApiError(
                401,
                "authError",
                "Invalid Credentials",
                location="Authorization",
                locationType="header",
            )
        account: dict[str, Any] | None = self.state["accounts"].get(info["email"])
        if account is None:
            raise ApiError(401, "authError", "Invalid Credentials")
        return account

    # -- events ------------------------------------------------------------

    def make_event(
        self,
        cal: str,
        event_id: str,
        resource: dict[str, Any],
        start: datetime,
        end: datetime,
    ) -> dict[str, Any]:
        owner = self.calendar_owner(cal) or cal
        stamp = now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        event = {
            "kind": "calendar#event",
            "etag": f'"{secrets.randbits(48)}"',
            "id": event_id,
            "status": resource.get("status", "confirmed"),
            "htmlLink": f"http://127.0.0.1/calendar/event?eid={event_id}",
            "created": stamp,
            "updated": stamp,
            "summary": resource.get("summary", ""),
            "creator": {"email": owner, "self": True},
            "organizer": {"email": owner, "self": True},
            "start": resource["start"],
            "end": resource["end"],
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
            "_start": utc_text(start),
            "_end": utc_text(end),
        }
        for key in ("description", "location", "transparency", "visibility", "extendedProperties"):
            if key in resource:
                event[key] = resource[key]
        if resource.get("attendees"):
            event["attendees"] = resource["attendees"]
        return event

    def calendar_owner(self, cal: str) -> str | None:
        for email, acc in self.state["accounts"].items():
            if cal == email or cal in acc["calendars"]:
                return str(email)
        return None

    def resolve_calendar(self, account: dict[str, Any], cal: str) -> str:
        """Map a path calendar id to a stored calendar the token's account owns (404 otherwise)."""
        if cal == "primary":
            return str(account["email"])
        if cal == account["email"] or cal in account["calendars"]:
            return cal
        raise not_found()

    def busy_spans(self, cal: str) -> list[tuple[datetime, datetime]]:
        spans = []
        for ev in self.state["events"].get(cal, {}).values():
            if ev.get("status") == "cancelled" or ev.get("transparency") == "transparent":
                continue
            start, end = parse_rfc3339(ev["_start"]), parse_rfc3339(ev["_end"])
            if start and end:
                spans.append((start, end))
        return spans


def new_event_id() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def new_meet_code() -> str:
    """A Meet meeting code as Google shows it: ``abc-defg-hij``."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))


CONFERENCE_TYPES = ("hangoutsMeet", "eventHangout", "eventNamedHangout", "addOn")


def conference_data(raw: Any) -> dict[str, Any] | None:
    """A created conference for ``conferenceData.createRequest`` (Google Meet only).

    Google honours a create request only with ``conferenceDataVersion=1`` (the caller checks
    that); a request without a ``requestId`` or with an unknown solution type is a 400.
    Consumer Meet conferences are made at once (``status.statusCode`` ``success``)."""
    if not isinstance(raw, dict):
        raise bad_request("Invalid conference data.", "invalid")
    req = raw.get("createRequest")
    if req is None:
        return None
    if not isinstance(req, dict):
        raise bad_request("Invalid conference create request.", "invalid")
    request_id = req.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        raise bad_request("Invalid conference request id.", "invalid")
    key = req.get("conferenceSolutionKey") or {"type": "hangoutsMeet"}
    kind = key.get("type") if isinstance(key, dict) else None
    # The other solution types are for legacy Hangouts and add-ons, not a Meet calendar.
    if kind not in CONFERENCE_TYPES or kind != "hangoutsMeet":
        raise bad_request("Invalid conference type value.", "invalid")
    code = new_meet_code()
    uri = f"https://meet.google.com/{code}"
    return {
        "createRequest": {
            "requestId": request_id,
            "conferenceSolutionKey": {"type": kind},
            "status": {"statusCode": "success"},
        },
        "entryPoints": [
            {"entryPointType": "video", "uri": uri, "label": f"meet.google.com/{code}"},
            {
                "entryPointType": "more",
                "uri": f"https://tel.meet/{code}?pin=1",
                "pin": "1",
            },
        ],
        "conferenceSolution": {
            "key": {"type": kind},
            "name": "Google Meet",
            "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
        },
        "conferenceId": code,
    }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_id_token(email: str, client_id: str) -> str:
    """A JWT-shaped id_token whose payload is real and whose signature is NOT (peer only)."""
    header = {"alg": "RS256", "kid": "google-peer-unsigned", "typ": "JWT"}
    issued = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": client_id,
        "sub": "peer-" + b64url(email.encode())[:20],
        "email": email,
        "email_verified": True,
        "iat": issued,
        "exp": issued + 3600,
    }
    parts = [b64url(json.dumps(p).encode()) for p in (header, payload)]
    return ".".join([*parts, b64url(b"google-peer-unsigned")])


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_")}


# ---------------------------------------------------------------------------
# validation of event bodies


def event_time(value: Any, which: str, default_tz: str) -> tuple[datetime, dict[str, Any]]:
    """Validate a Google ``start``/``end`` object; return the instant and the normalised object."""
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        raise ApiError(400, "required", f"Missing {which} time.")
    tz_name = value.get("timeZone")
    tz = None
    if tz_name is not None:
        tz = zone(tz_name)
        if tz is None:
            raise bad_request(f"Invalid time zone definition for {which} time.", "invalid")
    if value.get("dateTime"):
        moment = parse_rfc3339(value["dateTime"], need_offset=False)
        if moment is None:
            raise bad_request(f"Invalid {which} time.", "invalid")
        if moment.tzinfo is None:
            if tz is None:
                raise bad_request(f"Missing time zone definition for {which} time.", "required")
            moment = moment.replace(tzinfo=tz)
        return moment, {k: value[k] for k in ("dateTime", "timeZone") if k in value}
    try:
        day = date.fromisoformat(str(value["date"]))
    except ValueError:
        raise bad_request(f"Invalid {which} time.", "invalid") from None
    moment = datetime(day.year, day.month, day.day, tzinfo=tz or zone(default_tz) or UTC)
    return moment, {"date": day.isoformat()}


def validate_attendees(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("Invalid attendees.", "invalid")
    out = []
    for item in raw:
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise bad_request("Invalid attendee email.", "invalid")
        attendee = {"email": email, "responseStatus": item.get("responseStatus", "needsAction")}
        for key in ("displayName", "optional", "comment", "additionalGuests"):
            if key in item:
                attendee[key] = item[key]
        out.append(attendee)
    return out


# ---------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    """One request: parse, route under the peer lock, answer with Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "google-peer/1.0"
    peer: Peer
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            sys.stderr.write(f"{NAME}: {format % args}\n")

    # -- plumbing ----------------------------------------------------------

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            for _ in range(100_000):
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "uploadTooLarge", "Request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "uploadTooLarge", "Request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if status not in (204, 304) else 0))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, indent=1).encode("utf-8")
        self.send_bytes(status, body, "application/json; charset=UTF-8", headers)

    def json_body(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(400, "parseError", "Parse Error") from None
        if not isinstance(value, dict):
            raise ApiError(400, "parseError", "Parse Error")
        return value

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def do_PATCH(self) -> None:
        self.handle_any()

    def do_PUT(self) -> None:
        self.handle_any()

    def do_DELETE(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self.route_path = split.path
        try:
            raw = self.read_body()
            if not self.route_path.startswith("/_peer/"):
                self.maybe_delay_or_fail()
            with self.peer.lock:
                status, obj, headers = self.route(raw)
                self.peer.save()
        except ApiError as err:
            headers = dict(err.headers)
            if err.status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
            self.send_json(err.status, err.body(), headers)
            return
        except OAuthError as err:
            body = {"error": err.error, "error_description": err.description}
            self.send_json(err.status, body, {"Cache-Control": "no-store"})
            return
        except (ValueError, KeyError, TypeError) as err:
            self.send_json(400, bad_request(f"Bad Request: {err}").body())
            return
        if isinstance(obj, Redirect):
            self.send_bytes(302, b"", "text/html", {"Location": obj.location})
        elif obj is None:
            self.send_bytes(status, b"", "text/plain", headers)
        else:
            self.send_json(status, obj, headers)

    def maybe_delay_or_fail(self) -> None:
        with self.peer.lock:
            cfg = self.peer.state["config"]
            latency = cfg["latency_ms"]
            fail = False
            if self.route_path.startswith("/calendar/v3/"):
                if cfg["fail_next"] > 0:
                    cfg["fail_next"] -= 1
                    fail = True
                elif cfg["error_rate"] and self.peer.rng.random() < cfg["error_rate"]:
                    fail = True
                status = cfg["error_status"] if cfg["error_status"] in (500, 503) else 503
        if latency:
            time.sleep(latency / 1000)
        if fail:
            raise ApiError(status, "backendError", "Backend Error")

    # -- routing -----------------------------------------------------------

    def count(self, name: str) -> None:
        counts = self.peer.state["request_counts"]
        counts[name] = counts.get(name, 0) + 1

    def route(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        method, path = self.command, self.route_path
        peer = self.peer
        if path.startswith("/_peer/"):
            return self.route_peer(method, path, raw)
        if path == "/token" and method == "POST":
            self.count("POST /token")
            return 200, self.token(raw), {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if path == "/revoke" and method == "POST":
            self.count("POST /revoke")
            return self.revoke(raw)
        if path == "/o/oauth2/v2/auth" and method == "GET":
            self.count("GET /o/oauth2/v2/auth")
            return 302, self.consent(), {}
        if not path.startswith("/calendar/v3/"):
            raise not_found()
        account = peer.account_for_bearer(self.headers.get("Authorization"))
        parts = [unquote(p) for p in path[len("/calendar/v3/") :].split("/")]
        if parts == ["freeBusy"] and method == "POST":
            self.count("POST freeBusy")
            return 200, self.free_busy(account, self.json_body(raw)), {}
        if len(parts) >= 2 and parts[0] == "calendars":
            cal = peer.resolve_calendar(account, parts[1])
            rest = parts[2:]
            if rest == [] and method == "GET":
                acc = peer.state["accounts"][peer.calendar_owner(cal) or account["email"]]
                return 200, calendar_resource(cal, acc["time_zone"]), {}
            if rest == ["events"] and method == "POST":
                self.count("POST events")
                return 200, self.insert_event(cal, self.json_body(raw)), {}
            if rest == ["events"] and method == "GET":
                self.count("GET events")
                return 200, self.list_events(cal, account), {}
            if len(rest) == 2 and rest[0] == "events":
                event = peer.state["events"].get(cal, {}).get(rest[1])
                if event is None:
                    raise not_found()
                if method == "GET":
                    self.count("GET event")
                    return 200, public_event(event), {}
                if method == "DELETE":
                    self.count("DELETE event")
                    if event["status"] == "cancelled":
                        raise ApiError(410, "deleted", "Resource has been deleted")
                    self.set_status(cal, event, "cancelled")
                    return 204, None, {}
                if method in ("PATCH", "PUT"):
                    self.count(f"{method} event")
                    return 200, self.patch_event(cal, event, self.json_body(raw)), {}
        raise not_found()

    def route_peer(self, method: str, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        peer = self.peer
        if path == "/_peer/health" and method == "GET":
            return 200, {"ok": True, "name": NAME}, {}
        if path == "/_peer/state" and method == "GET":
            st = dict(peer.state)
            st["events"] = {
                cal: [public_event(e) for e in evs.values()] for cal, evs in st["events"].items()
            }
            return 200, st, {}
        if path == "/_peer/reset" and method == "POST":
            peer.reset()
            return 200, {"ok": True}, {}
        if path == "/_peer/config" and method == "POST":
            return 200, {"config": peer.configure(self.json_body(raw))}, {}
        if path == "/_peer/seed" and method == "POST":
            return 200, peer.seed(self.json_body(raw)), {}
        raise not_found()

    # -- OAuth ---------------------------------------------------------------

    def check_client(self, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        if not client_id:
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(auth[6:]).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    decoded = ":"
                client_id, _, secret = decoded.partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
        known = self.peer.state["clients"].get(client_id)
        if known is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if known != secret:
            raise OAuthError(401, "invalid_client", "Unauthorized")
        return client_id

    def token(self, raw: bytes) -> dict[str, Any]:
        ctype = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            raise OAuthError(400, "invalid_request", "Invalid content type.")
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        peer = self.peer
        peer.state["token_requests"].append(
            {"grant_type": grant, "client_id": form.get("client_id"), "at": utc_text(now_utc())}
        )
        if grant not in ("authorization_code", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        client_id = self.check_client(form)
        if grant == "refresh_token":
            token = form.get("refresh_token")
            if not token:
                raise OAuthError(
                    400, "invalid_request", "Missing required parameter: refresh_token"
                )
            info = peer.state["refresh_tokens"].get(token)
            if info is None or info["revoked"] or info["client_id"] != client_id:
                raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
            return peer.issue_access_token(info["email"], client_id, info["scope"])
        code = form.get("code")
        if not code:
            raise OAuthError(400, "invalid_request", "Missing required parameter: code")
        grant_info = peer.state["codes"].pop(code, None)
        if grant_info is None or grant_info["expires_at"] <= time.time():
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if grant_info["client_id"] != client_id:
            raise OAuthError(400, "invalid_grant", "Unauthorized")
        if form.get("redirect_uri") != grant_info["redirect_uri"]:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        out = peer.issue_access_token(grant_info["email"], client_id, grant_info["scope"])
        if grant_info["offline"]:
            refresh = "1//peer-" + secrets.token_urlsafe(32)
            peer.state["refresh_tokens"][refresh] = {
                "email": grant_info["email"],
                "client_id": client_id,
                "scope": grant_info["scope"],
                "revoked": False,
                "issued_at": utc_text(now_utc()),
            }
            out["refresh_token"] = refresh
        return out

    def revoke(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        token = form.get("token") or self.query.get("token", "")
        st = self.peer.state
        if token in st["refresh_tokens"] and not st["refresh_tokens"][token]["revoked"]:
            st["refresh_tokens"][token]["revoked"] = True
            return 200, {}, {}
        if token in st["access_tokens"]:
            del st["access_tokens"][token]
            return 200, {}, {}
        raise OAuthError(400, "invalid_token", "Token expired or revoked")

    def consent(self) -> Redirect:
        q = self.query
        st = self.peer.state
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") not in st["clients"]:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if not redirect_uri.startswith(("http://", "https://")):
            raise OAuthError(400, "invalid_request", "Missing required parameter: redirect_uri")
        if q.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "Invalid response_type")
        params: dict[str, str] = {}
        hint = q.get("login_hint")
        email = hint if hint else next(iter(st["accounts"]), None)
        if email is None or email not in st["accounts"]:
            params["error"] = "access_denied"
        else:
            code = "4/peer-" + secrets.token_urlsafe(24)
            st["codes"][code] = {
                "email": email,
                "client_id": q["client_id"],
                "redirect_uri": redirect_uri,
                "scope": q.get("scope", ""),
                "offline": q.get("access_type") == "offline",
                "expires_at": time.time() + 600,
            }
            params["code"] = code
            params["scope"] = q.get("scope", "")
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return Redirect(redirect_uri + sep + urlencode(params, quote_via=quote))

    # -- calendar ------------------------------------------------------------

    def free_busy(self, account: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        peer = self.peer
        if "timeMin" not in body:
            raise bad_request("Missing timeMin parameter.", "required")
        if "timeMax" not in body:
            raise bad_request("Missing timeMax parameter.", "required")
        t_min, t_max = parse_rfc3339(body["timeMin"]), parse_rfc3339(body["timeMax"])
        if t_min is None or t_max is None:
            raise bad_request("Bad Request", "invalid")
        if t_max <= t_min:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        tz = None
        if body.get("timeZone") is not None:
            tz = zone(body["timeZone"])
            if tz is None:
                raise bad_request("Invalid time zone definition.", "invalid")
        items = body.get("items", [])
        if not isinstance(items, list):
            raise bad_request("Bad Request")
        if len(items) > 50:
            raise bad_request("Too many calendars requested.", "tooManyCalendarsRequested")
        calendars: dict[str, Any] = {}
        failing = peer.state["config"]["fail_freebusy"]
        for item in items:
            key = item.get("id") if isinstance(item, dict) else None
            if not isinstance(key, str):
                raise bad_request("Bad Request")
            cal = account["email"] if key == "primary" else key
            if cal in failing or key in failing:
                reason = failing.get(cal, failing.get(key, "backendError"))
                calendars[key] = {"errors": [{"domain": "global", "reason": reason}], "busy": []}
                continue
            if cal not in peer.state["events"]:
                calendars[key] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            busy = []
            for start, end in merge_intervals(peer.busy_spans(cal)):
                if end <= t_min or start >= t_max:
                    continue
                busy.append(
                    {
                        "start": zoned_text(max(start, t_min), tz),
                        "end": zoned_text(min(end, t_max), tz),
                    }
                )
            calendars[key] = {"busy": busy}
        return {
            "kind": "calendar#freeBusy",
            "timeMin": zoned_text(t_min, None),
            "timeMax": zoned_text(t_max, None),
            "calendars": calendars,
        }

    def conference_version(self) -> int:
        """``conferenceDataVersion``: 0 (the default) ignores conference data in the body."""
        value = self.query.get("conferenceDataVersion", "0")
        if value not in ("0", "1"):
            raise bad_request("Invalid value for: conferenceDataVersion", "invalidParameter")
        return int(value)

    def send_updates_param(self) -> str:
        value = self.query.get("sendUpdates", "none")
        if value not in SEND_UPDATES:
            raise bad_request("Invalid value for: sendUpdates", "invalidParameter")
        return value

    def record_updates(self, cal: str, event: dict[str, Any], method: str, send: str) -> None:
        if send == "none":
            return
        owner = self.peer.calendar_owner(cal) or cal
        to = [a["email"] for a in event.get("attendees", []) if a["email"] != owner]
        if to:
            self.peer.state["sent_updates"].append(
                {
                    "calendar": cal,
                    "event_id": event["id"],
                    "method": method,
                    "to": to,
                    "send_updates": send,
                    "summary": event.get("summary", ""),
                    "at": utc_text(now_utc()),
                }
            )

    def insert_event(self, cal: str, body: dict[str, Any]) -> dict[str, Any]:
        peer = self.peer
        send = self.send_updates_param()
        event_id = body.get("id")
        if event_id is None:
            event_id = new_event_id()
        elif not isinstance(event_id, str) or not EVENT_ID_RE.match(event_id):
            raise bad_request("Invalid resource id value.", "invalid")
        if event_id in peer.state["events"][cal]:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        tz_default = peer.state["accounts"][peer.calendar_owner(cal) or cal]["time_zone"]
        start, start_obj = event_time(body.get("start"), "start", tz_default)
        end, end_obj = event_time(body.get("end"), "end", tz_default)
        if end < start:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        status = body.get("status", "confirmed")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise bad_request("Invalid value for: status", "invalid")
        if body.get("transparency", "opaque") not in ("opaque", "transparent"):
            raise bad_request("Invalid value for: transparency", "invalid")
        # Version 0 (no conferenceDataVersion) silently ignores conferenceData, as Google does.
        conference = None
        if self.conference_version() == 1 and "conferenceData" in body:
            conference = conference_data(body["conferenceData"])
        resource = dict(body)
        resource.update(start=start_obj, end=end_obj, status=status)
        resource["attendees"] = validate_attendees(body.get("attendees"))
        event = peer.make_event(cal, event_id, resource, start, end)
        if conference is not None:
            event["conferenceData"] = conference
            event["hangoutLink"] = conference["entryPoints"][0]["uri"]
        peer.state["events"][cal][event_id] = event
        self.record_updates(cal, event, "REQUEST", send)
        return public_event(event)

    def set_status(self, cal: str, event: dict[str, Any], status: str) -> None:
        send = self.send_updates_param()
        event["status"] = status
        event["sequence"] = int(event.get("sequence", 0)) + 1
        event["updated"] = now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if status == "cancelled":
            self.record_updates(cal, event, "CANCEL", send)

    def patch_event(self, cal: str, event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "id" in body and body["id"] != event["id"]:
            raise bad_request("Invalid resource id value.", "invalid")
        tz_default = self.peer.state["accounts"][self.peer.calendar_owner(cal) or cal]["time_zone"]
        start = parse_rfc3339(event["_start"])
        end = parse_rfc3339(event["_end"])
        if "start" in body:
            start, event["start"] = event_time(body["start"], "start", tz_default)
        if "end" in body:
            end, event["end"] = event_time(body["end"], "end", tz_default)
        if start is None or end is None or end < start:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        event["_start"], event["_end"] = utc_text(start), utc_text(end)
        for key in ("summary", "description", "location", "transparency", "visibility"):
            if key in body:
                event[key] = body[key]
        if "attendees" in body:
            event["attendees"] = validate_attendees(body["attendees"])
        # A patch keeps the conference; with version 1 a new create request replaces it.
        if self.conference_version() == 1 and "conferenceData" in body:
            conference = conference_data(body["conferenceData"])
            if conference is not None:
                event["conferenceData"] = conference
                event["hangoutLink"] = conference["entryPoints"][0]["uri"]
        new_status = body.get("status", event["status"])
        if new_status not in ("confirmed", "tentative", "cancelled"):
            raise bad_request("Invalid value for: status", "invalid")
        if new_status == "cancelled" and event["status"] != "cancelled":
            self.set_status(cal, event, "cancelled")
        else:
            event["status"] = new_status
            event["sequence"] = int(event.get("sequence", 0)) + 1
            event["updated"] = now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z")
            self.record_updates(cal, event, "REQUEST", self.send_updates_param())
        return public_event(event)

    def list_events(self, cal: str, account: dict[str, Any]) -> dict[str, Any]:
        q = self.query
        t_min = t_max = None
        if "timeMin" in q:
            t_min = parse_rfc3339(q["timeMin"])
            if t_min is None:
                raise bad_request("Bad Request", "badRequest")
        if "timeMax" in q:
            t_max = parse_rfc3339(q["timeMax"])
            if t_max is None:
                raise bad_request("Bad Request", "badRequest")
        show_deleted = q.get("showDeleted", "false") == "true"
        try:
            max_results = min(int(q.get("maxResults", "250")), 2500)
            offset = int(q.get("pageToken", "0") or 0)
        except ValueError:
            raise bad_request("Invalid value", "invalid") from None
        if max_results < 1:
            raise bad_request("Invalid value for: maxResults", "invalid")
        selected = []
        for ev in self.peer.state["events"].get(cal, {}).values():
            if ev["status"] == "cancelled" and not show_deleted:
                continue
            start, end = parse_rfc3339(ev["_start"]), parse_rfc3339(ev["_end"])
            if start is None or end is None:
                continue
            if t_min is not None and end <= t_min:
                continue
            if t_max is not None and start >= t_max:
                continue
            selected.append((start, ev["id"], ev))
        selected.sort(key=lambda s: (s[0], s[1]))
        page = selected[offset : offset + max_results]
        owner = self.peer.calendar_owner(cal) or account["email"]
        out: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": cal,
            "timeZone": self.peer.state["accounts"][owner]["time_zone"],
            "updated": now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "items": [public_event(ev) for _, _, ev in page],
        }
        if offset + max_results < len(selected):
            out["nextPageToken"] = str(offset + max_results)
        return out


class Redirect:
    """A 302 answer."""

    def __init__(self, location: str) -> None:
        self.location = location


def calendar_resource(cal: str, tz_name: str) -> dict[str, Any]:
    return {
        "kind": "calendar#calendar",
        "etag": f'"{abs(hash(cal)) % 10**12}"',
        "id": cal,
        "summary": cal,
        "timeZone": tz_name,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9102)
    parser.add_argument("--state-file", help="JSON file the state is loaded from and saved to")
    parser.add_argument("--seed", help="JSON file applied like POST /_peer/seed at start")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    peer = Peer(args.state_file)
    if args.seed:
        with open(args.seed, encoding="utf-8") as fh, peer.lock:
            peer.seed(json.load(fh))
            peer.save()

    handler = type("BoundHandler", (Handler,), {"peer": peer, "verbose": args.verbose})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"{NAME} listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
