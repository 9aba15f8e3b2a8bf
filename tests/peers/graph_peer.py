#!/usr/bin/env python3
"""Local stand-in for the Microsoft identity platform and Microsoft Graph calendar calls.

It answers what dynchat needs from Microsoft 365 (token exchange and refresh, an authorize
redirect that skips the login page, ``getSchedule``, event create / get / cancel / delete,
``calendarView``) with Graph's status codes, JSON error shape and odd time format, records the
invitations and cancellations Graph would have emailed, and exposes it all under ``/_peer/*``.
Single file, stdlib only.

Run: ``python3 tests/peers/graph_peer.py --port 9103 [--state-file s.json] [--seed seed.json]``.
It prints ``graph-peer listening on http://127.0.0.1:PORT`` once it accepts connections.
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
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NAME = "graph-peer"
MAX_BODY = 4_000_000
DEFAULT_CLIENT_ID = "dynchat-local-client"
DEFAULT_CLIENT_SECRET = "dynchat-local-secret"
MAX_SCHEDULES = 20
MAX_SCHEDULE_DAYS = 62
STATUSES = ("free", "tentative", "busy", "oof", "workingElsewhere")
# availabilityView digit per status, and which status wins when items overlap.
VIEW_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
PRIORITY = {"free": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "India Standard Time": "Asia/Kolkata",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}
GRAPH_DT_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(\.\d{1,7})?([Zz]|[+-]\d{2}:\d{2})?$"
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PREFER_TZ_RE = re.compile(r'outlook\.timezone\s*=\s*"([^"]+)"', re.IGNORECASE)


# ---------------------------------------------------------------------------
# time helpers


def zone(name: Any) -> ZoneInfo | None:
    """Return the zone for an IANA or (common) Windows name, or None."""
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return None
    name = WINDOWS_ZONES.get(name, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_graph_dt(text: Any, tz: ZoneInfo | None) -> datetime | None:
    """Parse Graph's ``dateTime`` (offset usually absent, 0-7 fraction digits) in zone ``tz``."""
    if not isinstance(text, str):
        return None
    m = GRAPH_DT_RE.match(text.strip())
    if not m:
        return None
    day, clock, frac, offset = m.groups()
    if len(clock) == 5:
        clock += ":00"
    micro = (frac or ".0")[1:7].ljust(6, "0")
    iso = f"{day}T{clock}.{micro}"
    if offset:
        iso += "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or UTC)
    return moment


def graph_dt(moment: datetime, tz: ZoneInfo) -> str:
    """Format like Graph: local wall time in ``tz`` with seven fraction digits, no offset."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso_now() -> str:
    return now_utc().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "0000Z"


# ---------------------------------------------------------------------------
# errors


class GraphError(Exception):
    """An error answered as ``{"error":{"code":..,"message":..}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = {}


class OAuthError(Exception):
    """A Microsoft identity token-endpoint error with an AADSTS code."""

    def __init__(self, status: int, error: str, aadsts: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.text = text

    def body(self) -> dict[str, Any]:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now_utc().strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.text} Trace ID: {trace} "
            f"Correlation ID: {corr} Timestamp: {stamp}",
            "error_codes": [self.aadsts],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.aadsts}",
        }


def invalid(message: str, code: str = "ErrorInvalidParameter") -> GraphError:
    return GraphError(400, code, message)


def item_not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


# ---------------------------------------------------------------------------
# state


def default_config() -> dict[str, Any]:
    return {
        "access_token_ttl": 3599,
        "latency_ms": 0,
        "error_rate": 0.0,
        "error_status": 503,
        "error_seed": None,
        "fail_next": 0,
        "throttle": False,
        "throttle_next": 0,
        "retry_after": 1,
        # mailbox -> responseCode reported as that schedule's "error" in getSchedule
        "fail_schedules": {},
    }


def empty_state() -> dict[str, Any]:
    return {
        "clients": {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET},
        # email -> {"email", "display_name", "time_zone", "can_login"}
        "mailboxes": {},
        "refresh_tokens": {},
        "access_tokens": {},
        "codes": {},
        # mailbox -> {event id -> event resource (+ "_start"/"_end" UTC text)}
        "events": {},
        "deleted_events": [],
        # mailbox -> {transactionId -> event id}
        "transactions": {},
        "sent_invitations": [],
        "sent_cancellations": [],
        # updates Graph mails attendees when the organizer changes an event (PATCH)
        "sent_updates": [],
        "token_requests": [],
        "request_counts": {},
        "config": default_config(),
    }


class Peer:
    """All mutable state behind one lock, persisted to ``state_file`` after each request."""

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
            self.rng = random.Random(self.state["config"].get("error_seed"))

    def save(self) -> None:
        if not self.state_file:
            return
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    def reset(self) -> None:
        self.state = empty_state()
        self.rng = random.Random()

    def seed(self, body: dict[str, Any]) -> dict[str, Any]:
        st = self.state
        for client in body.get("clients", []) or []:
            cid, secret = client.get("client_id"), client.get("client_secret")
            if not isinstance(cid, str) or not isinstance(secret, str):
                raise invalid("clients[] need client_id and client_secret")
            st["clients"][cid] = secret
        accounts = [(a, True) for a in body.get("accounts", []) or []]
        accounts += [(m, False) for m in body.get("mailboxes", []) or []]
        for acc, can_login in accounts:
            if isinstance(acc, str):
                acc = {"email": acc}
            email = acc.get("email")
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                raise invalid("accounts[].email must be an email address")
            tz_name = acc.get("time_zone", "UTC")
            if zone(tz_name) is None:
                raise invalid(f"unknown time_zone {tz_name!r}")
            st["mailboxes"][email] = {
                "email": email,
                "display_name": acc.get("display_name", email.split("@")[0]),
                "time_zone": tz_name,
                "can_login": can_login,
            }
            st["events"].setdefault(email, {})
            st["transactions"].setdefault(email, {})
            token = acc.get("refresh_token")
            if isinstance(token, str) and token:
                st["refresh_tokens"][token] = {
                    "email": email,
                    "client_id": acc.get("client_id", DEFAULT_CLIENT_ID),
                    "scope": "Calendars.ReadWrite offline_access User.Read",
                    "revoked": False,
                    "issued_at": utc_text(now_utc()),
                }
        created = []
        for i, block in enumerate(body.get("busy", []) or []):
            mailbox = block.get("mailbox", block.get("calendar"))
            if mailbox not in st["mailboxes"]:
                raise invalid(f"busy[{i}].mailbox must be a seeded account or mailbox")
            start = parse_graph_dt(block.get("start"), None)
            end = parse_graph_dt(block.get("end"), None)
            if start is None or end is None or end <= start:
                raise invalid(f"busy[{i}] needs start < end (ISO 8601, UTC unless offset given)")
            status = block.get("status", "busy")
            if status not in STATUSES:
                raise invalid(f"busy[{i}].status must be one of {', '.join(STATUSES)}")
            resource = {
                "subject": block.get("subject", "Busy"),
                "showAs": status,
                "start": {"dateTime": graph_dt(start, ZoneInfo("UTC")), "timeZone": "UTC"},
                "end": {"dateTime": graph_dt(end, ZoneInfo("UTC")), "timeZone": "UTC"},
                "isCancelled": bool(block.get("is_cancelled", False)),
                "attendees": [],
            }
            event = self.make_event(mailbox, resource, start, end)
            st["events"][mailbox][event["id"]] = event
            created.append(event["id"])
        return {"mailboxes": sorted(st["mailboxes"]), "busy_events": created}

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        cfg: dict[str, Any] = self.state["config"]
        unknown = sorted(set(body) - {"revoke", "expire_access_tokens", *default_config()})
        if unknown:
            raise invalid(f"unknown config keys: {', '.join(unknown)}")
        if "revoke" in body:
            emails = body["revoke"] if isinstance(body["revoke"], list) else [body["revoke"]]
            for info in self.state["refresh_tokens"].values():
                if info["email"] in emails:
                    info["revoked"] = True
            self.state["access_tokens"] = {
                t: i for t, i in self.state["access_tokens"].items() if i["email"] not in emails
            }
        if "expire_access_tokens" in body:
            self.state["access_tokens"] = {}
        for key in (
            "access_token_ttl",
            "latency_ms",
            "fail_next",
            "error_status",
            "throttle_next",
            "retry_after",
        ):
            if key in body:
                if not isinstance(body[key], int) or body[key] < 0:
                    raise invalid(f"{key} must be a non-negative integer")
                cfg[key] = body[key]
        if "throttle" in body:
            cfg["throttle"] = bool(body["throttle"])
        if "error_rate" in body:
            rate = body["error_rate"]
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise invalid("error_rate must be between 0 and 1")
            cfg["error_rate"] = float(rate)
        if "error_seed" in body:
            cfg["error_seed"] = body["error_seed"]
            self.rng = random.Random(body["error_seed"])
        if "fail_schedules" in body:
            value = body["fail_schedules"]
            if isinstance(value, str):
                value = {value: "ErrorNoFreeBusyAccess"}
            elif isinstance(value, list):
                value = {m: "ErrorNoFreeBusyAccess" for m in value}
            if not isinstance(value, dict):
                raise invalid("fail_schedules: mailbox, list of mailboxes or {mailbox: code}")
            cfg["fail_schedules"] = value
        return cfg

    def issue_tokens(self, email: str, client_id: str, scope: str) -> dict[str, Any]:
        ttl = int(self.state["config"]["access_token_ttl"])
        header = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"none"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(
            json.dumps({"upn": email, "aud": "https://graph.microsoft.com"}).encode()
        )
        token = f"{header}.{body.rstrip(b'=').decode()}.{secrets.token_urlsafe(24)}"
        self.state["access_tokens"][token] = {
            "email": email,
            "client_id": client_id,
            "expires_at": time.time() + ttl,
        }
        # Microsoft rotates refresh tokens: every answer carries a new one, old ones stay valid.
        refresh = "0.peer-" + secrets.token_urlsafe(32)
        self.state["refresh_tokens"][refresh] = {
            "email": email,
            "client_id": client_id,
            "scope": scope,
            "revoked": False,
            "issued_at": utc_text(now_utc()),
        }
        return {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": token,
            "refresh_token": refresh,
        }

    def mailbox_for_bearer(self, header: str | None) -> dict[str, Any]:
        if not header:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        scheme, _, token = header.partition(" ")
        info = (
            self.state["access_tokens"].get(token.strip()) if scheme.lower() == "bearer" else None
        )
        if info is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if info["expires_at"] <= time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        mailbox: dict[str, Any] | None = self.state["mailboxes"].get(info["email"])
        if mailbox is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        return mailbox

    def make_event(
        self, mailbox: str, resource: dict[str, Any], start: datetime, end: datetime
    ) -> dict[str, Any]:
        owner = self.state["mailboxes"][mailbox]
        event_id = "AAMkAGI2peer" + secrets.token_urlsafe(33)
        body = resource.get("body") if isinstance(resource.get("body"), dict) else None
        content = (body or {}).get("content", "")
        preview = re.sub(r"<[^>]*>", " ", content) if isinstance(content, str) else ""
        stamp = iso_now()
        return {
            "id": event_id,
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "changeKey": secrets.token_urlsafe(12),
            "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
            "subject": resource.get("subject", ""),
            "bodyPreview": " ".join(preview.split())[:255],
            "body": body or {"contentType": "text", "content": ""},
            "importance": resource.get("importance", "normal"),
            "sensitivity": resource.get("sensitivity", "normal"),
            "isAllDay": bool(resource.get("isAllDay", False)),
            "isCancelled": bool(resource.get("isCancelled", False)),
            "isOrganizer": True,
            "responseRequested": bool(resource.get("responseRequested", True)),
            "showAs": resource.get("showAs", "busy"),
            "type": "singleInstance",
            "webLink": f"http://127.0.0.1/owa/?itemid={event_id}",
            "start": resource["start"],
            "end": resource["end"],
            "originalStartTimeZone": resource["start"].get("timeZone", "UTC"),
            "originalEndTimeZone": resource["end"].get("timeZone", "UTC"),
            "location": resource.get("location") or {"displayName": ""},
            "attendees": resource.get("attendees", []),
            "organizer": {"emailAddress": {"name": owner["display_name"], "address": mailbox}},
            "transactionId": resource.get("transactionId"),
            "_start": utc_text(start),
            "_end": utc_text(end),
        }


ONLINE_PROVIDERS = ("teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown")


def online_meeting(body: dict[str, Any], event_id: str) -> dict[str, Any]:
    """``isOnlineMeeting`` / ``onlineMeetingProvider`` of a create or update body -> the
    event's online-meeting fields. Only Teams is enabled on the peer's tenant; Graph then
    answers ``onlineMeeting.joinUrl`` (``onlineMeetingUrl`` is deprecated and null)."""
    flag = body.get("isOnlineMeeting", False)
    if not isinstance(flag, bool):
        raise invalid("Invalid value for isOnlineMeeting.", "BadRequest")
    kind = body.get("onlineMeetingProvider", "teamsForBusiness" if flag else "unknown")
    if kind not in ONLINE_PROVIDERS:
        raise invalid(f"Requested value '{kind}' was not found.", "BadRequest")
    if not flag:
        return {"isOnlineMeeting": False, "onlineMeetingProvider": "unknown", "onlineMeeting": None}
    if kind != "teamsForBusiness":
        raise invalid(
            f"Online meeting provider '{kind}' is not allowed for this calendar.",
            "ErrorInvalidRequest",
        )
    thread = secrets.token_hex(16)
    join = (
        f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"
        f"?context=%7b%22Tid%22%3a%22peer%22%2c%22Oid%22%3a%22{event_id[-8:]}%22%7d"
    )
    return {
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "onlineMeetingUrl": None,
        "onlineMeeting": {"joinUrl": join},
    }


def public_event(event: dict[str, Any], tz: ZoneInfo | None) -> dict[str, Any]:
    """The event as Graph shows it; times re-expressed in ``tz`` when given."""
    out = {k: v for k, v in event.items() if not k.startswith("_")}
    if tz is not None:
        for key in ("start", "end"):
            moment = parse_graph_dt(event[f"_{key}"], None)
            if moment is not None:
                out[key] = {"dateTime": graph_dt(moment, tz), "timeZone": tz.key}
    return out


def validate_time(value: Any, which: str) -> tuple[datetime, dict[str, Any]]:
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise invalid(f"Missing or invalid {which}.", "ErrorInvalidRequest")
    tz_name = value.get("timeZone") or "UTC"
    tz = zone(tz_name)
    if tz is None:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{tz_name}'.",
        )
    moment = parse_graph_dt(value["dateTime"], tz)
    if moment is None:
        raise invalid(
            f"Cannot convert the literal '{value['dateTime']}' to the expected type "
            "'Edm.DateTimeOffset'.",
            "BadRequest",
        )
    return moment, {"dateTime": graph_dt(moment, tz), "timeZone": tz_name}


def validate_attendees(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("Invalid attendees.", "ErrorInvalidRequest")
    out = []
    for item in raw:
        addr = (item.get("emailAddress") or {}) if isinstance(item, dict) else {}
        email = addr.get("address") if isinstance(addr, dict) else None
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise invalid("At least one recipient isn't valid.", "ErrorInvalidRecipients")
        kind = item.get("type", "required")
        if kind not in ("required", "optional", "resource"):
            raise invalid("Invalid attendee type.", "ErrorInvalidRequest")
        out.append(
            {
                "type": kind,
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": addr.get("name", email), "address": email},
            }
        )
    return out


# ---------------------------------------------------------------------------
# HTTP


class Redirect:
    """A 302 answer."""

    def __init__(self, location: str) -> None:
        self.location = location


class Handler(BaseHTTPRequestHandler):
    """One request: parse, route under the peer lock, answer with Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "graph-peer/1.0"
    peer: Peer
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            sys.stderr.write(f"{NAME}: {format % args}\n")

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            for _ in range(100_000):
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY:
                    raise GraphError(413, "RequestEntityTooLarge", "Request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise GraphError(413, "RequestEntityTooLarge", "Request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        empty = status in (202, 204, 304) and not body
        if not empty:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(0 if empty else len(body)))
        self.send_header("request-id", self.request_id)
        if self.headers.get("client-request-id"):
            self.send_header("client-request-id", self.headers["client-request-id"])
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not empty and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, indent=1).encode("utf-8")
        ctype = "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8"
        self.send_bytes(status, body, ctype, headers)

    def json_body(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise invalid("Empty Payload. JSON content expected.", "BadRequest") from None
        if not isinstance(value, dict):
            raise invalid("Invalid JSON body.", "BadRequest")
        return value

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def do_PATCH(self) -> None:
        self.handle_any()

    def do_DELETE(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        split = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        self.route_path = split.path
        self.request_id = str(uuid.uuid4())
        try:
            raw = self.read_body()
            if self.route_path.startswith("/v1.0/"):
                self.maybe_delay_or_fail()
            with self.peer.lock:
                status, obj, headers = self.route(raw)
                self.peer.save()
        except GraphError as err:
            headers = dict(err.headers)
            if err.status == 401:
                headers["WWW-Authenticate"] = (
                    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                    'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
                )
            body = {
                "error": {
                    "code": err.code,
                    "message": err.message,
                    "innerError": {
                        "date": now_utc().strftime("%Y-%m-%dT%H:%M:%S"),
                        "request-id": self.request_id,
                        "client-request-id": self.headers.get("client-request-id", self.request_id),
                    },
                }
            }
            self.send_json(err.status, body, headers)
            return
        except OAuthError as err:
            self.send_json(err.status, err.body(), {"Cache-Control": "no-store, no-cache"})
            return
        except (ValueError, KeyError, TypeError) as err:
            self.send_json(400, {"error": {"code": "BadRequest", "message": str(err)}})
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
            throttled = False
            fail = False
            if cfg["throttle"]:
                throttled = True
            elif cfg["throttle_next"] > 0:
                cfg["throttle_next"] -= 1
                throttled = True
            elif cfg["fail_next"] > 0:
                cfg["fail_next"] -= 1
                fail = True
            elif cfg["error_rate"] and self.peer.rng.random() < cfg["error_rate"]:
                fail = True
            status = cfg["error_status"] if cfg["error_status"] in (500, 503) else 503
            retry_after = cfg["retry_after"]
            counts = self.peer.state["request_counts"]
            if throttled or fail:
                key = "throttled" if throttled else "failed"
                counts[key] = counts.get(key, 0) + 1
        if latency:
            time.sleep(latency / 1000)
        if throttled:
            err = GraphError(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            )
            err.headers["Retry-After"] = str(retry_after)
            raise err
        if fail:
            code = "ServiceNotAvailable" if status == 503 else "generalException"
            err = GraphError(status, code, "The service is temporarily unavailable.")
            if status == 503:
                err.headers["Retry-After"] = str(retry_after)
            raise err

    def count(self, name: str) -> None:
        counts = self.peer.state["request_counts"]
        counts[name] = counts.get(name, 0) + 1

    def prefer_tz(self) -> ZoneInfo | None:
        m = PREFER_TZ_RE.search(self.headers.get("Prefer", ""))
        return zone(m.group(1)) if m else None

    def tz_headers(self, tz: ZoneInfo | None) -> dict[str, str]:
        m = PREFER_TZ_RE.search(self.headers.get("Prefer", ""))
        return {"Preference-Applied": f'outlook.timezone="{m.group(1)}"'} if tz and m else {}

    def route(self, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        method, path = self.command, self.route_path
        if path.startswith("/_peer/"):
            return self.route_peer(method, path, raw)
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[1] == "oauth2" and parts[2] == "v2.0":
            if parts[3] == "token" and method == "POST":
                self.count("POST token")
                return 200, self.token(raw), {"Cache-Control": "no-store, no-cache"}
            if parts[3] == "authorize" and method == "GET":
                self.count("GET authorize")
                return 302, self.authorize(), {}
        if not path.startswith("/v1.0/"):
            raise GraphError(404, "UnknownError", "Resource not found")
        mailbox = self.peer.mailbox_for_bearer(self.headers.get("Authorization"))
        me = mailbox["email"]
        rest = [unquote(p) for p in parts[1:]]
        tz = self.prefer_tz()
        if rest == ["me"] and method == "GET":
            return 200, self.me(mailbox), {}
        if rest == ["me", "calendar", "getSchedule"] and method == "POST":
            self.count("POST getSchedule")
            return 200, self.get_schedule(self.json_body(raw), tz), self.tz_headers(tz)
        if rest == ["me", "events"] and method == "POST":
            self.count("POST events")
            return 201, self.create_event(me, self.json_body(raw), tz), self.tz_headers(tz)
        if rest == ["me", "calendarView"] and method == "GET":
            self.count("GET calendarView")
            return 200, self.calendar_view(me, tz), self.tz_headers(tz)
        if len(rest) >= 3 and rest[:2] == ["me", "events"]:
            events = self.peer.state["events"][me]
            event = events.get(rest[2])
            if event is None:
                raise item_not_found()
            if len(rest) == 3 and method == "GET":
                self.count("GET event")
                shown = public_event(event, tz or ZoneInfo("UTC"))
                return 200, shown, self.tz_headers(tz)
            if len(rest) == 3 and method == "PATCH":
                self.count("PATCH event")
                shown = self.update_event(me, event, self.json_body(raw), tz)
                return 200, shown, self.tz_headers(tz)
            if len(rest) == 3 and method == "DELETE":
                self.count("DELETE event")
                self.remove_event(me, event, None)
                return 204, None, {}
            if rest[3:] == ["cancel"] and method == "POST":
                self.count("POST cancel")
                if not event["attendees"]:
                    raise invalid(
                        "Your request can't be completed. You can't cancel a meeting that only "
                        "has the organizer; use DELETE.",
                        "ErrorInvalidRequest",
                    )
                comment = self.json_body(raw).get("Comment", "")
                self.remove_event(me, event, comment if isinstance(comment, str) else "")
                return 202, None, {}
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{rest[-1]}'.")

    def route_peer(self, method: str, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        peer = self.peer
        if path == "/_peer/health" and method == "GET":
            return 200, {"ok": True, "name": NAME}, {}
        if path == "/_peer/state" and method == "GET":
            st = dict(peer.state)
            st["events"] = {
                m: [public_event(e, None) for e in evs.values()] for m, evs in st["events"].items()
            }
            return 200, st, {}
        if path == "/_peer/reset" and method == "POST":
            peer.reset()
            return 200, {"ok": True}, {}
        if path == "/_peer/config" and method == "POST":
            return 200, {"config": peer.configure(self.json_body(raw))}, {}
        if path == "/_peer/seed" and method == "POST":
            return 200, peer.seed(self.json_body(raw)), {}
        raise GraphError(404, "UnknownError", "Resource not found")

    # -- identity platform -------------------------------------------------

    def check_client(self, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        known = self.peer.state["clients"].get(client_id)
        if known is None:
            raise OAuthError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if known != secret:
            raise OAuthError(401, "invalid_client", 7000215, "Invalid client secret provided.")
        return client_id

    def token(self, raw: bytes) -> dict[str, Any]:
        if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
            raise OAuthError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        st = self.peer.state
        st["token_requests"].append(
            {"grant_type": grant, "client_id": form.get("client_id"), "at": utc_text(now_utc())}
        )
        if grant not in ("authorization_code", "refresh_token"):
            raise OAuthError(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            )
        client_id = self.check_client(form)
        scope = form.get("scope", "Calendars.ReadWrite offline_access")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            info = st["refresh_tokens"].get(token)
            if info is None or info["client_id"] != client_id:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    9002313,
                    "Invalid request. Request is malformed or invalid.",
                )
            if info["revoked"]:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token "
                    "is needed. The user might have changed or reset their password. The grant "
                    f"was previously issued on '{info['issued_at']}'.",
                )
            return self.peer.issue_tokens(info["email"], client_id, scope)
        code = form.get("code", "")
        grant_info = st["codes"].pop(code, None)
        if grant_info is None or grant_info["expires_at"] <= time.time():
            raise OAuthError(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity.",
            )
        if grant_info["client_id"] != client_id:
            raise OAuthError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
        if form.get("redirect_uri") != grant_info["redirect_uri"]:
            raise OAuthError(
                400,
                "invalid_grant",
                50148,
                "The redirect_uri does not match the one used in the authorization request.",
            )
        return self.peer.issue_tokens(grant_info["email"], client_id, grant_info["scope"] or scope)

    def authorize(self) -> Redirect:
        q = self.query
        st = self.peer.state
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") not in st["clients"]:
            raise OAuthError(400, "unauthorized_client", 700016, "Application was not found.")
        if not redirect_uri.startswith(("http://", "https://")):
            raise OAuthError(400, "invalid_request", 900144, "redirect_uri is missing.")
        if q.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", 70005, "response_type is not code.")
        logins = [m for m, info in st["mailboxes"].items() if info["can_login"]]
        hint = q.get("login_hint")
        email = hint if hint else (logins[0] if logins else None)
        params: dict[str, str] = {}
        if email is None or email not in logins:
            params["error"] = "access_denied"
            params["error_description"] = "AADSTS65004: User declined to consent."
        else:
            code = "0.peer-code-" + secrets.token_urlsafe(24)
            st["codes"][code] = {
                "email": email,
                "client_id": q["client_id"],
                "redirect_uri": redirect_uri,
                "scope": q.get("scope", ""),
                "expires_at": time.time() + 600,
            }
            params["code"] = code
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return Redirect(redirect_uri + sep + urlencode(params, quote_via=quote))

    # -- Graph -------------------------------------------------------------

    def me(self, mailbox: dict[str, Any]) -> dict[str, Any]:
        email = mailbox["email"]
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, email)),
            "displayName": mailbox["display_name"],
            "mail": email,
            "userPrincipalName": email,
        }

    def get_schedule(self, body: dict[str, Any], out_tz: ZoneInfo | None) -> dict[str, Any]:
        st = self.peer.state
        schedules = body.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise invalid("Required property 'schedules' is missing or empty.")
        if not all(isinstance(s, str) for s in schedules):
            raise invalid("'schedules' must be a list of SMTP addresses.")
        if len(schedules) > MAX_SCHEDULES:
            raise invalid(
                f"The number of schedules ({len(schedules)}) exceeds the maximum allowed "
                f"({MAX_SCHEDULES})."
            )
        start, _ = validate_time(body.get("startTime"), "startTime")
        end, _ = validate_time(body.get("endTime"), "endTime")
        if end <= start:
            raise invalid("The end time must be after the start time.", "ErrorInvalidTimeInterval")
        if end - start > timedelta(days=MAX_SCHEDULE_DAYS):
            raise invalid(
                f"The time window cannot be longer than {MAX_SCHEDULE_DAYS} days.",
                "ErrorInvalidParameter",
            )
        interval = body.get("availabilityViewInterval", 30)
        if not isinstance(interval, int) or not 5 <= interval <= 1440:
            raise invalid("availabilityViewInterval must be between 5 and 1440.")
        tz = out_tz or ZoneInfo("UTC")
        failing = st["config"]["fail_schedules"]
        slots = []
        cursor = start
        for _ in range(100_000):
            if cursor >= end:
                break
            slots.append((cursor, min(cursor + timedelta(minutes=interval), end)))
            cursor += timedelta(minutes=interval)
        value = []
        for sched in schedules:
            if sched in failing:
                value.append(
                    {
                        "scheduleId": sched,
                        "availabilityView": "",
                        "error": {
                            "message": "The user's free/busy information could not be retrieved.",
                            "responseCode": failing[sched],
                        },
                    }
                )
                continue
            if sched not in st["mailboxes"]:
                value.append(
                    {
                        "scheduleId": sched,
                        "availabilityView": "",
                        "error": {
                            "message": "The SMTP address has no mailbox associated with it.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            items = []
            spans = []
            for ev in st["events"][sched].values():
                if ev["isCancelled"]:
                    continue
                ev_start = parse_graph_dt(ev["_start"], None)
                ev_end = parse_graph_dt(ev["_end"], None)
                if ev_start is None or ev_end is None or ev_end <= start or ev_start >= end:
                    continue
                spans.append((ev_start, ev_end, ev["showAs"]))
                items.append(
                    {
                        "isPrivate": ev["sensitivity"] == "private",
                        "status": ev["showAs"],
                        "subject": ev["subject"],
                        "location": (ev.get("location") or {}).get("displayName", ""),
                        "isMeeting": bool(ev["attendees"]),
                        "isRecurring": False,
                        "isException": False,
                        "isReminderSet": True,
                        "start": {"dateTime": graph_dt(ev_start, tz), "timeZone": tz.key},
                        "end": {"dateTime": graph_dt(ev_end, tz), "timeZone": tz.key},
                    }
                )
            items.sort(key=lambda i: i["start"]["dateTime"])
            view = ""
            for slot_start, slot_end in slots:
                best = "free"
                for s, e, status in spans:
                    if s < slot_end and e > slot_start and PRIORITY[status] > PRIORITY[best]:
                        best = status
                view += VIEW_DIGIT[best]
            owner_tz = st["mailboxes"][sched]["time_zone"]
            value.append(
                {
                    "scheduleId": sched,
                    "availabilityView": view,
                    "scheduleItems": items,
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": owner_tz},
                    },
                }
            )
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/"
            "$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": value,
        }

    def create_event(self, me: str, body: dict[str, Any], tz: ZoneInfo | None) -> dict[str, Any]:
        st = self.peer.state
        txn = body.get("transactionId")
        if txn is not None:
            if not isinstance(txn, str) or not txn:
                raise invalid("transactionId must be a non-empty string.")
            existing = st["transactions"][me].get(txn)
            if existing and existing in st["events"][me]:
                return public_event(st["events"][me][existing], tz)
        start, start_obj = validate_time(body.get("start"), "start")
        end, end_obj = validate_time(body.get("end"), "end")
        if end < start:
            raise invalid("The end time must be after the start time.", "ErrorInvalidRequest")
        show_as = body.get("showAs", "busy")
        if show_as not in STATUSES:
            raise invalid(f"Invalid value '{show_as}' for showAs.", "BadRequest")
        resource = dict(body)
        resource.update(
            start=start_obj,
            end=end_obj,
            showAs=show_as,
            attendees=validate_attendees(body.get("attendees")),
            isCancelled=False,
        )
        event = self.peer.make_event(me, resource, start, end)
        event.update(online_meeting(body, event["id"]))
        st["events"][me][event["id"]] = event
        if txn:
            st["transactions"][me][txn] = event["id"]
        for attendee in event["attendees"]:
            # Graph mails every attendee itself; the product must not send a second invitation.
            st["sent_invitations"].append(
                {
                    "mailbox": me,
                    "event_id": event["id"],
                    "to": attendee["emailAddress"]["address"],
                    "subject": event["subject"],
                    "body_preview": event["bodyPreview"],
                    "start": event["_start"],
                    "end": event["_end"],
                    "transaction_id": txn,
                    "join_url": (event.get("onlineMeeting") or {}).get("joinUrl"),
                    "at": utc_text(now_utc()),
                }
            )
        return public_event(event, tz)

    def update_event(
        self, me: str, event: dict[str, Any], body: dict[str, Any], tz: ZoneInfo | None
    ) -> dict[str, Any]:
        """``PATCH /me/events/{id}``: the given fields change; the online meeting stays (it
        cannot be turned off once on). Graph mails the attendees the update."""
        start = parse_graph_dt(event["_start"], None)
        end = parse_graph_dt(event["_end"], None)
        start_obj, end_obj = event["start"], event["end"]
        if "start" in body:
            start, start_obj = validate_time(body["start"], "start")
        if "end" in body:
            end, end_obj = validate_time(body["end"], "end")
        if start is None or end is None or end < start:
            raise invalid("The end time must be after the start time.", "ErrorInvalidRequest")
        event["start"], event["end"] = start_obj, end_obj
        if "isOnlineMeeting" in body:
            if body["isOnlineMeeting"] is False and event.get("isOnlineMeeting"):
                raise invalid(
                    "An online meeting cannot be turned off once on.", "ErrorInvalidRequest"
                )
            if body["isOnlineMeeting"] is True and not event.get("isOnlineMeeting"):
                event.update(online_meeting(body, event["id"]))
        for key in ("subject", "location", "showAs"):
            if key in body:
                event[key] = body[key]
        if "body" in body and isinstance(body["body"], dict):
            event["body"] = body["body"]
        event["_start"], event["_end"] = utc_text(start), utc_text(end)
        event["lastModifiedDateTime"] = iso_now()
        event["changeKey"] = secrets.token_urlsafe(12)
        if event["attendees"]:
            self.peer.state["sent_updates"].append(
                {
                    "mailbox": me,
                    "event_id": event["id"],
                    "to": [a["emailAddress"]["address"] for a in event["attendees"]],
                    "subject": event["subject"],
                    "start": event["_start"],
                    "end": event["_end"],
                    "join_url": (event.get("onlineMeeting") or {}).get("joinUrl"),
                    "at": utc_text(now_utc()),
                }
            )
        return public_event(event, tz)

    def remove_event(self, me: str, event: dict[str, Any], comment: str | None) -> None:
        st = self.peer.state
        event["isCancelled"] = True
        del st["events"][me][event["id"]]
        st["deleted_events"].append({k: v for k, v in event.items() if not k.startswith("_")})
        if event["attendees"]:
            st["sent_cancellations"].append(
                {
                    "mailbox": me,
                    "event_id": event["id"],
                    "to": [a["emailAddress"]["address"] for a in event["attendees"]],
                    "subject": "Canceled: " + event["subject"],
                    "comment": comment or "",
                    "via": "cancel" if comment is not None else "delete",
                    "at": utc_text(now_utc()),
                }
            )

    def calendar_view(self, me: str, tz: ZoneInfo | None) -> dict[str, Any]:
        q = {k.lower(): v for k, v in self.query.items()}
        if "startdatetime" not in q or "enddatetime" not in q:
            raise invalid(
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
                "ErrorInvalidParameter",
            )
        start = parse_graph_dt(q["startdatetime"], None)
        end = parse_graph_dt(q["enddatetime"], None)
        if start is None or end is None:
            raise invalid("The value of StartDateTime or EndDateTime is invalid.", "BadRequest")
        try:
            top = int(q.get("$top", "10"))
            skip = int(q.get("$skip", "0"))
        except ValueError:
            raise invalid("Invalid $top or $skip.", "BadRequest") from None
        if not 1 <= top <= 1000 or skip < 0:
            raise invalid("Invalid $top or $skip.", "BadRequest")
        selected = []
        for ev in self.peer.state["events"][me].values():
            s, e = parse_graph_dt(ev["_start"], None), parse_graph_dt(ev["_end"], None)
            if s is None or e is None or ev["isCancelled"] or e <= start or s >= end:
                continue
            selected.append((s, ev["id"], ev))
        selected.sort(key=lambda x: (x[0], x[1]))
        page = selected[skip : skip + top]
        out: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('me')/calendarView",
            "value": [public_event(ev, tz or ZoneInfo("UTC")) for _, _, ev in page],
        }
        if skip + top < len(selected):
            host = self.headers.get("Host", "127.0.0.1")
            params = {
                "startDateTime": q["startdatetime"],
                "endDateTime": q["enddatetime"],
                "$top": str(top),
                "$skip": str(skip + top),
            }
            out["@odata.nextLink"] = f"http://{host}/v1.0/me/calendarView?" + urlencode(params)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9103)
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
