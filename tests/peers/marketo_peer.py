#!/usr/bin/env python3
"""A protocol-faithful Marketo REST API peer for dynchat's tests and the local demo.

Single file, standard library only. It speaks the subset of Marketo's REST API that the
dynchat worker uses (identity, leads, cookies, describe, program membership, custom
activities, lead changes, companies, campaign triggers) with Marketo's envelopes, error codes,
call-level versus record-level errors, rate / concurrency / daily limits, and optional fault
injection. Inspection endpoints under `/_peer/` (no auth) let tests see what it received.

Run: python3 tests/peers/marketo_peer.py --port 9101   (see --help and tests/peers/README.md)
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import random
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from marketo_bulk import BulkError, Exports

PEER_NAME = "marketo-peer"
MAX_BODY_BYTES = 1024 * 1024  # Marketo answers 413 above 1 MB
MAX_URI_BYTES = 8 * 1024  # and 414 above 8 KB
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024  # read and discard up to this much before a 413
MAX_BATCH = 300  # records per leads.json / activities / program status call
MAX_TRIGGER_LEADS = 100  # leads per campaign trigger call
MAX_ATTRIBUTES_PER_TYPE = 20
MAX_ATTRIBUTES_BYTES = 65536
FAULT_KINDS = ("604", "608", "611", "502", "slow")
ERROR_FAULT_MESSAGES = {
    "604": "Request timed out",
    "608": "API Temporarily Unavailable",
    "611": "System error",
}
# Marketo's daily quota resets at midnight US Central Standard Time.
QUOTA_DAY_TZ = timezone(timedelta(hours=-6))
ACTIVITY_NEW_LEAD = 12
ACTIVITY_CHANGE_DATA_VALUE = 13
FIRST_CUSTOM_ACTIVITY_TYPE_ID = 100001
PERSIST_DELAY_S = 0.1  # state-file writes are coalesced over this long

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def html_error(status: int, reason: str) -> bytes:
    """A gateway-style HTML error page (what Marketo's front end sends for 413/414)."""
    return (
        f"<html><head><title>{status} {reason}</title></head><body>"
        f"<center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
    ).encode()


# --------------------------------------------------------------------------------------------
# Field catalogue (what describe2.json returns and what leads.json validates against)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FieldDef:
    """One lead or company field as Marketo describes it."""

    field_id: int
    name: str
    display: str
    data_type: str
    length: int | None = None
    read_only: bool = False
    soap_name: str = ""


LEAD_FIELDS: dict[str, FieldDef] = {
    f.name: f
    for f in [
        FieldDef(1, "id", "Id", "integer", read_only=True, soap_name="Id"),
        FieldDef(2, "company", "Company Name", "string", 255, soap_name="Company"),
        FieldDef(3, "website", "Website", "url", 255, soap_name="Website"),
        FieldDef(5, "mainPhone", "Main Phone", "phone", 255, soap_name="MainPhone"),
        FieldDef(17, "annualRevenue", "Annual Revenue", "currency", soap_name="AnnualRevenue"),
        FieldDef(18, "numberOfEmployees", "Num Employees", "integer", soap_name="NumberOfEmployees"),
        FieldDef(19, "industry", "Industry", "string", 255, soap_name="Industry"),
        FieldDef(22, "country", "Country", "string", 255, soap_name="Country"),
        FieldDef(23, "city", "City", "string", 255, soap_name="City"),
        FieldDef(24, "leadStatus", "Lead Status", "string", 255, soap_name="LeadStatus"),
        FieldDef(27, "leadSource", "Lead Source", "string", 255, soap_name="LeadSource"),
        FieldDef(29, "firstName", "First Name", "string", 255, soap_name="FirstName"),
        FieldDef(31, "lastName", "Last Name", "string", 255, soap_name="LastName"),
        FieldDef(33, "title", "Job Title", "string", 255, soap_name="Title"),
        FieldDef(48, "email", "Email Address", "email", 255, soap_name="Email"),
        FieldDef(50, "phone", "Phone Number", "phone", 255, soap_name="Phone"),
        FieldDef(52, "unsubscribed", "Unsubscribed", "boolean", soap_name="Unsubscribed"),
        FieldDef(59, "createdAt", "Created At", "datetime", read_only=True, soap_name="CreatedAt"),
        FieldDef(60, "updatedAt", "Updated At", "datetime", read_only=True, soap_name="UpdatedAt"),
        # The lead owner's email: read-only through the API (the CRM sync sets it; a seed may).
        FieldDef(
            61, "leadOwnerEmail", "Lead Owner Email Address", "email", 255,
            read_only=True, soap_name="LeadOwnerEmailAddress",
        ),
        # Custom fields the dynchat admin created in this subscription.
        FieldDef(1201, "chatInterest", "Chat Interest", "string", 255, soap_name="chatInterest"),
        FieldDef(1202, "chatNotes", "Chat Notes", "text", 65535, soap_name="chatNotes"),
        FieldDef(1203, "chatMeetingAt", "Chat Meeting At", "datetime", soap_name="chatMeetingAt"),
    ]
}
LEAD_SEARCHABLE = ("email", "id", "cookies")
LEAD_DEFAULT_FIELDS = ("id", "email", "firstName", "lastName", "updatedAt", "createdAt")

COMPANY_FIELDS: dict[str, FieldDef] = {
    f.name: f
    for f in [
        FieldDef(1, "id", "Id", "integer", read_only=True),
        FieldDef(2, "externalCompanyId", "External Company Id", "string", 100),
        FieldDef(3, "company", "Company Name", "string", 255),
        FieldDef(4, "website", "Website", "url", 255),
        FieldDef(5, "industry", "Industry", "string", 255),
        FieldDef(6, "numberOfEmployees", "Num Employees", "integer"),
        FieldDef(7, "annualRevenue", "Annual Revenue", "currency"),
        FieldDef(8, "billingCountry", "Billing Country", "string", 255),
        FieldDef(9, "billingCity", "Billing City", "string", 255),
        FieldDef(10, "mainPhone", "Main Phone", "phone", 255),
        FieldDef(11, "createdAt", "Created At", "datetime", read_only=True),
        FieldDef(12, "updatedAt", "Updated At", "datetime", read_only=True),
    ]
}
COMPANY_SEARCHABLE = ("id", "externalCompanyId", "company", "website")
COMPANY_DEFAULT_FIELDS = ("id", "externalCompanyId", "company", "updatedAt", "createdAt")

ACTIVITY_ATTRIBUTE_TYPES = (
    "string", "text", "integer", "float", "currency", "boolean", "email", "phone", "url",
    "link", "date", "datetime",
)  # fmt: skip

STANDARD_ACTIVITY_TYPES: list[dict[str, Any]] = [
    {"id": 1, "name": "Visit Webpage", "description": "User visits a web page",
     "primaryAttribute": {"name": "Webpage ID", "dataType": "integer"}},
    {"id": 2, "name": "Fill Out Form", "description": "User fills out and submits form",
     "primaryAttribute": {"name": "Webform ID", "dataType": "integer"}},
    {"id": 3, "name": "Click Link", "description": "User clicks link on a page",
     "primaryAttribute": {"name": "Link ID", "dataType": "integer"}},
    {"id": 10, "name": "Open Email", "description": "User opens Marketo Email",
     "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": 11, "name": "Click Email", "description": "User clicks on a link in a Marketo Email",
     "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": ACTIVITY_NEW_LEAD, "name": "New Lead", "description": "New person",
     "primaryAttribute": {"name": "Lead ID", "dataType": "integer"}},
    {"id": ACTIVITY_CHANGE_DATA_VALUE, "name": "Change Data Value",
     "description": "Changed attribute value for a person",
     "primaryAttribute": {"name": "Attribute Name", "dataType": "integer"}},
]  # fmt: skip

DEFAULT_PROGRAMS: list[dict[str, Any]] = [
    {"id": 1001, "name": "Website Chat", "channel": "Chat",
     "statuses": ["Not in Program", "Member", "Engaged", "Meeting Booked", "Converted"]},
    {"id": 1002, "name": "Product Webinar", "channel": "Webinar",
     "statuses": ["Not in Program", "Invited", "Registered", "Attended", "No Show"]},
]  # fmt: skip
DEFAULT_CAMPAIGNS: list[dict[str, Any]] = [
    {"id": 2001, "name": "Chat lead follow-up", "isRequestable": True},
    {"id": 2002, "name": "Meeting booked alert", "isRequestable": True},
    {"id": 2003, "name": "Weekly nurture (batch)", "isRequestable": False},
]

EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}$")
COOKIE_TOKEN_RE = re.compile(r"token:(_mch-[A-Za-z0-9._-]+)")
INT_RE = re.compile(r"^-?\d+$")
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")


class ApiError(Exception):
    """A call-level Marketo error: HTTP 200, `success:false`, one entry in `errors`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class PeerInputError(Exception):
    """A malformed request to an inspection endpoint (answered 400)."""


def now_iso(ts: float | None = None) -> str:
    """Marketo's timestamp format: UTC, second precision, trailing Z."""
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: Any) -> datetime | None:
    """Parse an ISO 8601 date-time (naive means UTC); None when not parseable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def coerce(fdef_type: str, length: int | None, value: Any) -> tuple[bool, Any]:
    """Validate and normalise a value for a field of the given Marketo data type."""
    if value is None:
        return True, None
    if fdef_type == "email":
        if not isinstance(value, str) or len(value) > (length or 255):
            return False, None
        return (True, value) if EMAIL_RE.match(value) else (False, None)
    if fdef_type in ("string", "phone", "url", "text", "link"):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return False, None
        text = value if isinstance(value, str) else str(value)
        if length is not None and len(text) > length:
            return False, None
        return True, text
    if fdef_type == "integer":
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and INT_RE.match(value.strip()):
            number = int(value.strip())
        else:
            return False, None
        return (True, number) if -(2**31) <= number < 2**31 else (False, None)
    if fdef_type in ("float", "currency"):
        if isinstance(value, bool):
            return False, None
        if isinstance(value, (int, float)):
            return True, float(value)
        if isinstance(value, str):
            try:
                return True, float(value)
            except ValueError:
                return False, None
        return False, None
    if fdef_type == "boolean":
        if isinstance(value, bool):
            return True, value
        if value in (0, 1):
            return True, bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return True, value.lower() in ("true", "1")
        return False, None
    if fdef_type == "datetime":
        parsed = parse_iso(value)
        if parsed is None:
            return False, None
        return True, parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fdef_type == "date":
        if not isinstance(value, str):
            return False, None
        try:
            return True, date.fromisoformat(value).isoformat()
        except ValueError:
            return False, None
    return False, None


def as_marketo_string(value: Any) -> str | None:
    """How Marketo renders a value in a Change Data Value activity."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cookie_key(cookie: str) -> str | None:
    """The part of a `_mkto_trk` value that identifies the browser (`_mch-...`)."""
    match = COOKIE_TOKEN_RE.search(cookie)
    return match.group(1) if match else None


def encode_page_token(position: int) -> str:
    """An opaque paging token, base32 like Marketo's."""
    return base64.b32encode(f"dynchat-peer:{position}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int | None:
    """The activity position a paging token stands for; None when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 8)
        text = base64.b32decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "dynchat-peer" or not INT_RE.match(number):
        return None
    return int(number)


def request_id() -> str:
    """Marketo's request id shape, e.g. `e42b#14272d07d78`."""
    return f"{random.getrandbits(16):04x}#{int(time.time() * 1000):x}"


def split_csv(value: str | None) -> list[str]:
    """Split a comma-separated query value, dropping blanks."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def record_reason(code: str, message: str) -> dict[str, str]:
    """One entry of a skipped record's `reasons`."""
    return {"code": code, "message": message}


# --------------------------------------------------------------------------------------------
# Configuration and state
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Config:
    """Everything `--flags` and `POST /_peer/config` can set."""

    client_id: str = "dynchat"
    client_secret: str = "secret"
    window_seconds: float = 20.0
    window_calls: int = 100
    max_concurrent: int = 10
    daily_quota: int = 50000
    token_ttl: int = 3600
    fault_rate: float = 0.0
    fault_seed: int = 1
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    slow_ms: int = 3000
    max_activity_types: int = 10
    export_seconds: float = 1.0  # how long a bulk export job stays "Processing"
    export_daily_bytes: int = 500 * 1024 * 1024  # the daily export allocation
    updated_at_filter: bool = True  # False: the updatedAt filter answers 1035

    def public(self) -> dict[str, Any]:
        """The config as shown by /_peer/state (no secret)."""
        data = dataclasses.asdict(self)
        data["fault_kinds"] = list(self.fault_kinds)
        data.pop("client_secret")
        return data


CONFIG_KEYS: dict[str, Callable[[Any], Any]] = {
    "window_seconds": float,
    "window_calls": int,
    "max_concurrent": int,
    "daily_quota": int,
    "token_ttl": int,
    "fault_rate": float,
    "fault_seed": int,
    "slow_ms": int,
    "max_activity_types": int,
    "export_seconds": float,
    "export_daily_bytes": int,
    "updated_at_filter": bool,
}


def new_counters() -> dict[str, Any]:
    """Fresh counters for /_peer/state."""
    return {
        "calls_total": 0,  # every request under /rest, whatever its answer
        "calls_counted": 0,  # those that counted against the rate window and the quota
        "token_calls": 0,
        "token_issued": 0,
        "calls_per_window_max": 0,
        "count_601": 0,
        "count_602": 0,
        "count_606": 0,
        "count_607": 0,
        "count_615": 0,
        "access_token_in_query": 0,
        "errors_by_code": {},
        "faults": {kind: 0 for kind in FAULT_KINDS},
        "max_concurrency": 0,
        "leads_records_per_call": [],  # capped at the last 10,000 calls
        "leads_records_histogram": {},
        "daily_calls": {},
        "internal_errors": 0,
    }


class Store:
    """All peer state behind one lock; every REST operation is a method here."""

    def __init__(self, config: Config, state_file: str | None) -> None:
        self.lock = threading.RLock()
        self.startup_config = dataclasses.replace(config)
        self.config = config
        self.state_file = state_file
        self.rng = random.Random(config.fault_seed)
        self.windows: dict[str, deque[float]] = {}
        self.in_flight: dict[str, int] = {}
        self.total_in_flight = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=500)
        self.tokens: dict[str, dict[str, Any]] = {}
        self.current_token: dict[str, str] = {}
        self.started = time.time()
        self.dirty_version = 0
        self.saved_version = 0
        self.file_lock = threading.Lock()
        self.wake_writer = threading.Event()
        self._reset_data()
        if state_file and os.path.exists(state_file):
            self._load(state_file)
        if state_file:
            threading.Thread(target=self._writer_loop, name="state-writer", daemon=True).start()

    # ---- data lifecycle ---------------------------------------------------------------------

    def _reset_data(self) -> None:
        self.leads: dict[int, dict[str, Any]] = {}
        self.email_index: dict[str, list[int]] = {}
        self.cookies: dict[str, dict[str, Any]] = {}
        self.lead_writes: dict[str, dict[str, int]] = {}
        self.programs: dict[int, dict[str, Any]] = {p["id"]: dict(p) for p in DEFAULT_PROGRAMS}
        self.memberships: dict[int, dict[int, dict[str, Any]]] = {}
        self.campaigns: dict[int, dict[str, Any]] = {c["id"]: dict(c) for c in DEFAULT_CAMPAIGNS}
        self.campaign_triggers: list[dict[str, Any]] = []
        self.activity_types: dict[str, dict[str, Any]] = {}
        self.activities: list[dict[str, Any]] = []  # ids ascending, insertion order
        self.activity_ids: list[int] = []
        self.companies: dict[int, dict[str, Any]] = {}
        self.next_lead_id = 1
        self.next_activity_id = 1
        self.next_type_id = FIRST_CUSTOM_ACTIVITY_TYPE_ID
        self.next_company_id = 1
        self.exports = Exports(
            self.config.export_seconds, self.config.export_daily_bytes, self.config.updated_at_filter
        )
        self.counters = new_counters()
        self.windows.clear()
        self.recent.clear()

    def reset(self, clear_tokens: bool) -> None:
        """Back to the startup config and empty data (default programs and campaigns)."""
        with self.lock:
            self.config = dataclasses.replace(self.startup_config)
            self._reset_data()
            self.rng = random.Random(self.config.fault_seed)
            if clear_tokens:
                self.tokens.clear()
                self.current_token.clear()
            self.persist()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "version": 1,
            "leads": list(self.leads.values()),
            "cookies": self.cookies,
            "lead_writes": self.lead_writes,
            "programs": list(self.programs.values()),
            "memberships": {
                str(pid): {str(lid): m for lid, m in members.items()}
                for pid, members in self.memberships.items()
            },
            "campaigns": list(self.campaigns.values()),
            "campaign_triggers": self.campaign_triggers,
            "activity_types": list(self.activity_types.values()),
            "activities": self.activities,
            "companies": list(self.companies.values()),
            "next_ids": {
                "lead": self.next_lead_id,
                "activity": self.next_activity_id,
                "type": self.next_type_id,
                "company": self.next_company_id,
            },
            "tokens": self.tokens,
            "current_token": self.current_token,
            "counters": self.counters,
        }

    def persist(self) -> None:
        """Note that state changed; the writer thread saves it within PERSIST_DELAY_S.

        Writing the whole file on every call (under the lock) made a few thousand leads cost
        ~90 ms per call, so writes are coalesced; flush() saves synchronously.
        """
        if not self.state_file:
            return
        with self.lock:
            self.dirty_version += 1
        self.wake_writer.set()

    def flush(self) -> None:
        """Save the state now (atomically: temp file + rename) if it changed since last save."""
        if not self.state_file:
            return
        with self.file_lock:
            with self.lock:
                version = self.dirty_version
                if version == self.saved_version:
                    return
                data = json.dumps(self._snapshot(), separators=(",", ":"))
            directory = os.path.dirname(os.path.abspath(self.state_file))
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".marketo-peer-", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(data)
                os.replace(tmp, self.state_file)
            except OSError:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            self.saved_version = version

    def _writer_loop(self) -> None:
        while True:
            self.wake_writer.wait()
            time.sleep(PERSIST_DELAY_S)
            self.wake_writer.clear()
            try:
                self.flush()
            except OSError:
                traceback.print_exc()

    def _load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.leads = {int(lead["id"]): lead for lead in data.get("leads", [])}
        self.email_index = {}
        for lead in self.leads.values():
            self._index_email(lead["id"], lead.get("email"))
        self.cookies = data.get("cookies", {})
        self.lead_writes = data.get("lead_writes", {})
        self.programs = {int(p["id"]): p for p in data.get("programs", DEFAULT_PROGRAMS)}
        self.memberships = {
            int(pid): {int(lid): m for lid, m in members.items()}
            for pid, members in data.get("memberships", {}).items()
        }
        self.campaigns = {int(c["id"]): c for c in data.get("campaigns", DEFAULT_CAMPAIGNS)}
        self.campaign_triggers = data.get("campaign_triggers", [])
        self.activity_types = {t["apiName"]: t for t in data.get("activity_types", [])}
        self.activities = data.get("activities", [])
        self.activity_ids = [a["id"] for a in self.activities]
        self.companies = {int(c["id"]): c for c in data.get("companies", [])}
        next_ids = data.get("next_ids", {})
        self.next_lead_id = int(next_ids.get("lead", 1))
        self.next_activity_id = int(next_ids.get("activity", 1))
        self.next_type_id = int(next_ids.get("type", FIRST_CUSTOM_ACTIVITY_TYPE_ID))
        self.next_company_id = int(next_ids.get("company", 1))
        self.tokens = data.get("tokens", {})
        self.current_token = data.get("current_token", {})
        counters = new_counters()
        counters.update(data.get("counters", {}))
        self.counters = counters

    # ---- identity ---------------------------------------------------------------------------

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any] | None:
        """The identity endpoint: the same token until it expires; None on bad credentials."""
        with self.lock:
            self.counters["token_calls"] += 1
            if client_id != self.config.client_id or client_secret != self.config.client_secret:
                return None
            now = time.time()
            token = self.current_token.get(client_id)
            info = self.tokens.get(token) if token else None
            if info is None or int(info["expires_at"] - now) <= 0:
                token = f"{uuid.uuid4()}:ab"
                info = {"client_id": client_id, "expires_at": now + self.config.token_ttl}
                self.tokens[token] = info
                self.current_token[client_id] = token
                self.counters["token_issued"] += 1
                self._prune_tokens(now)
                self.persist()
            return {
                "access_token": token,
                "token_type": "bearer",
                # Marketo answers 3599 for a fresh one-hour token.
                "expires_in": max(0, min(self.config.token_ttl - 1, int(info["expires_at"] - now))),
                "scope": f"apis@{client_id}",
            }

    def _prune_tokens(self, now: float) -> None:
        # Remember expired tokens for a day so they answer 602 rather than 601.
        for token in [t for t, i in self.tokens.items() if i["expires_at"] < now - 86400]:
            del self.tokens[token]

    def expire_tokens(self) -> None:
        """Force every token to be expired (next use: 602; next identity call: a new one)."""
        with self.lock:
            now = time.time()
            for info in self.tokens.values():
                info["expires_at"] = min(info["expires_at"], now - 1)
            self.persist()

    def authenticate(self, authorization: str | None, query: dict[str, str]) -> str:
        """The client id behind a Bearer token, or ApiError 601/602."""
        with self.lock:
            if "access_token" in query:
                # Marketo stopped accepting the query parameter; we reject it outright.
                self.counters["access_token_in_query"] += 1
                self.counters["count_601"] += 1
                raise ApiError("601", "Access token invalid")
            token = None
            if authorization:
                scheme, _, value = authorization.strip().partition(" ")
                if scheme.lower() == "bearer" and value.strip():
                    token = value.strip()
            info = self.tokens.get(token) if token else None
            if info is None:
                self.counters["count_601"] += 1
                raise ApiError("601", "Access token invalid")
            if info["expires_at"] <= time.time():
                self.counters["count_602"] += 1
                raise ApiError("602", "Access token expired")
            return str(info["client_id"])

    # ---- limits and faults --------------------------------------------------------------------

    def admit(self, client: str) -> str | None:
        """Apply 606 / 607 / 615, roll for a fault, take a concurrency slot.

        Returns the fault kind to inject (or None). Calls answered with a 6xx code do not count
        against the window or the quota, as Marketo documents; "slow" calls do count.
        """
        with self.lock:
            cfg = self.config
            now = time.monotonic()
            window = self.windows.setdefault(client, deque())
            while window and window[0] <= now - cfg.window_seconds:
                window.popleft()
            if len(window) >= cfg.window_calls:
                self.counters["count_606"] += 1
                seconds = cfg.window_seconds
                shown = int(seconds) if float(seconds).is_integer() else seconds
                raise ApiError("606", f"Max rate limit '{cfg.window_calls}' exceeded with in '{shown}' secs")
            day = datetime.now(QUOTA_DAY_TZ).date().isoformat()
            daily = self.counters["daily_calls"]
            if daily.get(day, 0) >= cfg.daily_quota:
                self.counters["count_607"] += 1
                raise ApiError("607", "Daily quota reached")
            if self.in_flight.get(client, 0) >= cfg.max_concurrent:
                self.counters["count_615"] += 1
                raise ApiError("615", "Concurrent access limit reached")
            fault = None
            if cfg.fault_rate > 0 and cfg.fault_kinds and self.rng.random() < cfg.fault_rate:
                fault = self.rng.choice(list(cfg.fault_kinds))
                self.counters["faults"][fault] += 1
            if fault is None or fault == "slow":
                window.append(now)
                daily[day] = daily.get(day, 0) + 1
                self.counters["calls_counted"] += 1
                self.counters["calls_per_window_max"] = max(
                    self.counters["calls_per_window_max"], len(window)
                )
            self.in_flight[client] = self.in_flight.get(client, 0) + 1
            self.total_in_flight += 1
            self.counters["max_concurrency"] = max(self.counters["max_concurrency"], self.in_flight[client])
            return fault

    def release(self, client: str) -> None:
        """Give back the concurrency slot taken by admit()."""
        with self.lock:
            self.in_flight[client] = max(0, self.in_flight.get(client, 0) - 1)
            self.total_in_flight = max(0, self.total_in_flight - 1)

    def note_request(self, entry: dict[str, Any]) -> None:
        """Remember an answered REST call (the last 500 are shown in /_peer/state)."""
        with self.lock:
            self.recent.append(entry)
            code = entry.get("code")
            if code:
                by_code = self.counters["errors_by_code"]
                by_code[code] = by_code.get(code, 0) + 1

    # ---- leads --------------------------------------------------------------------------------

    def _index_email(self, lead_id: int, email: Any) -> None:
        if isinstance(email, str) and email:
            ids = self.email_index.setdefault(email.lower(), [])
            if lead_id not in ids:
                ids.append(lead_id)

    def _unindex_email(self, lead_id: int, email: Any) -> None:
        if isinstance(email, str) and email:
            ids = self.email_index.get(email.lower(), [])
            if lead_id in ids:
                ids.remove(lead_id)
            if not ids:
                self.email_index.pop(email.lower(), None)

    def _add_activity(self, activity: dict[str, Any]) -> dict[str, Any]:
        activity = {
            "id": self.next_activity_id,
            "marketoGUID": str(self.next_activity_id),
            **activity,
            "_recordedAt": time.time(),
        }
        self.next_activity_id += 1
        self.activities.append(activity)
        self.activity_ids.append(activity["id"])
        return activity

    def _create_lead(self, values: dict[str, Any], source: str) -> int:
        lead_id = self.next_lead_id
        self.next_lead_id += 1
        stamp = now_iso()
        lead = {"id": lead_id, **{k: v for k, v in values.items() if v is not None}}
        lead["createdAt"] = stamp
        lead["updatedAt"] = stamp
        self.leads[lead_id] = lead
        self._index_email(lead_id, lead.get("email"))
        self._add_activity(
            {
                "leadId": lead_id,
                "activityDate": stamp,
                "activityTypeId": ACTIVITY_NEW_LEAD,
                "primaryAttributeValueId": lead_id,
                "fields": [],
                "attributes": [{"name": "Source Type", "value": source}],
            }
        )
        return lead_id

    def _update_lead(self, lead_id: int, values: dict[str, Any], source: str) -> None:
        lead = self.leads[lead_id]
        stamp = now_iso()
        changed = False
        for name, new in values.items():
            old = lead.get(name)
            if old == new:
                continue
            changed = True
            if name == "email":
                self._unindex_email(lead_id, old)
            if new is None:
                lead.pop(name, None)
            else:
                lead[name] = new
            if name == "email":
                self._index_email(lead_id, new)
            fdef = LEAD_FIELDS[name]
            self._add_activity(
                {
                    "leadId": lead_id,
                    "activityDate": stamp,
                    "activityTypeId": ACTIVITY_CHANGE_DATA_VALUE,
                    "primaryAttributeValueId": fdef.field_id,
                    "primaryAttributeValue": fdef.display,
                    "fields": [
                        {
                            "id": fdef.field_id,
                            "name": name,
                            "newValue": as_marketo_string(new),
                            "oldValue": as_marketo_string(old),
                        }
                    ],
                    "attributes": [{"name": "Source", "value": source}],
                }
            )
        if changed:
            lead["updatedAt"] = stamp

    def _count_write(self, email: Any, kind: str) -> None:
        key = email.lower() if isinstance(email, str) else "(none)"
        entry = self.lead_writes.setdefault(key, {"created": 0, "updated": 0})
        entry[kind] += 1

    def sync_leads(self, body: Any, source: str = "Web service API") -> list[dict[str, Any]]:
        """POST /rest/v1/leads.json."""
        if not isinstance(body, dict):
            raise ApiError("1003", "Invalid data: request body must be a JSON object")
        action = body.get("action", "createOrUpdate")
        if action not in ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate"):
            raise ApiError("1003", f"Invalid action '{action}'")
        lookup = body.get("lookupField", "email")
        if lookup not in LEAD_FIELDS:
            raise ApiError("1006", f"Field '{lookup}' not found")
        if lookup not in ("email", "id"):
            raise ApiError("1011", f"Field '{lookup}' not supported")
        records = body.get("input")
        if records is None or records == []:
            raise ApiError("701", "input cannot be blank")
        if not isinstance(records, list):
            raise ApiError("1003", "Invalid data: input must be an array")
        with self.lock:
            # Every leads.json call that got this far, including a rejected 301-record one.
            self.counters["leads_records_per_call"].append(len(records))
            del self.counters["leads_records_per_call"][:-10000]
            histogram = self.counters["leads_records_histogram"]
            histogram[str(len(records))] = histogram.get(str(len(records)), 0) + 1
            if len(records) > MAX_BATCH:
                raise ApiError(
                    "1003", f"Too many records: {len(records)} in input, at most {MAX_BATCH} allowed"
                )
            results = [self._sync_one(rec, action, lookup, source) for rec in records]
            if any(r["status"] != "skipped" for r in results):
                self.persist()
            return results

    def _sync_one(self, rec: Any, action: str, lookup: str, source: str) -> dict[str, Any]:
        if not isinstance(rec, dict):
            return {"status": "skipped", "reasons": [record_reason("1003", "Invalid data")]}
        reasons: list[dict[str, str]] = []
        values: dict[str, Any] = {}
        for name, raw in rec.items():
            fdef = LEAD_FIELDS.get(name)
            if fdef is None:
                reasons.append(record_reason("1006", f"Field '{name}' not found"))
                continue
            if name == "id":
                continue
            if fdef.read_only and source != "Seed":
                reasons.append(record_reason("1003", f"Field '{name}' is not updateable"))
                continue
            ok, value = coerce(fdef.data_type, fdef.length, raw)
            if not ok:
                if fdef.data_type == "email":
                    reasons.append(record_reason("1003", f"Invalid email address '{raw}'"))
                else:
                    reasons.append(record_reason("1003", f"Invalid value for field '{name}'"))
                continue
            values[name] = value
        lead_id: int | None = None
        if lookup == "email":
            if "id" in rec:
                reasons.append(record_reason("1003", "Field 'id' cannot be set with lookupField 'email'"))
            if "email" not in rec or rec.get("email") in (None, ""):
                reasons.append(record_reason("1003", "Value for required field 'email' not specified"))
        else:
            raw_id = rec.get("id")
            if action != "updateOnly":
                reasons.append(
                    record_reason("1003", "lookupField 'id' is only allowed with action updateOnly")
                )
            elif raw_id is None:
                reasons.append(record_reason("1003", "Value for required field 'id' not specified"))
            else:
                ok, number = coerce("integer", None, raw_id)
                if not ok:
                    reasons.append(record_reason("1003", "Invalid value for field 'id'"))
                else:
                    lead_id = number
        if reasons:
            return {"status": "skipped", "reasons": reasons}
        if lookup == "email":
            email = values["email"]
            matches = list(self.email_index.get(email.lower(), []))
            if action == "createDuplicate":
                matches = []
            if len(matches) > 1:
                return {
                    "status": "skipped",
                    "reasons": [record_reason("1007", "Multiple leads match the lookup criteria")],
                }
            if matches:
                if action == "createOnly":
                    return {"status": "skipped", "reasons": [record_reason("1005", "Lead already exists")]}
                self._update_lead(matches[0], values, source)
                self._count_write(email, "updated")
                return {"id": matches[0], "status": "updated"}
            if action == "updateOnly":
                return {"status": "skipped", "reasons": [record_reason("1004", "Lead not found")]}
            new_id = self._create_lead(values, source)
            self._count_write(email, "created")
            return {"id": new_id, "status": "created"}
        if lead_id is None or lead_id not in self.leads:
            return {"status": "skipped", "reasons": [record_reason("1004", "Lead not found")]}
        if values.get("email"):
            others = [i for i in self.email_index.get(values["email"].lower(), []) if i != lead_id]
            if others:
                return {
                    "status": "skipped",
                    "reasons": [record_reason("1003", "Email address already used by another lead")],
                }
        self._update_lead(lead_id, values, source)
        self._count_write(self.leads[lead_id].get("email"), "updated")
        return {"id": lead_id, "status": "updated"}

    def get_leads(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET /rest/v1/leads.json?filterType=..&filterValues=..&fields=.."""
        filter_type = params.get("filterType", "")
        raw_values = params.get("filterValues", "")
        if not filter_type:
            raise ApiError("701", "filterType cannot be blank")
        if not raw_values:
            raise ApiError("701", "filterValues cannot be blank")
        if filter_type not in LEAD_SEARCHABLE:
            raise ApiError("1011", f"Field '{filter_type}' not supported")
        fields = split_csv(params.get("fields")) or list(LEAD_DEFAULT_FIELDS)
        for name in fields:
            if name not in LEAD_FIELDS:
                raise ApiError("1006", f"Field '{name}' not found")
        batch_size = self._batch_size(params)
        with self.lock:
            if filter_type == "cookies":
                # One cookie per call; the value contains commas only if it is malformed.
                key = cookie_key(raw_values)
                if key is None:
                    raise ApiError("1012", f"Invalid cookie value '{raw_values}'")
                entry = self.cookies.get(key)
                ids = [int(entry["leadId"])] if entry else []
            else:
                values = split_csv(raw_values)
                if len(values) > MAX_BATCH:
                    raise ApiError("1003", f"Too many values in filterValues: at most {MAX_BATCH}")
                ids = []
                for value in values:
                    if filter_type == "id":
                        if not INT_RE.match(value):
                            raise ApiError("1001", f"Invalid value '{value}'. Required of type 'integer'")
                        if int(value) in self.leads:
                            ids.append(int(value))
                    else:
                        ids.extend(self.email_index.get(value.lower(), []))
            unique: list[int] = []
            for lead_id in ids:
                if lead_id not in unique and lead_id in self.leads:
                    unique.append(lead_id)
            unique.sort()
            return [self._lead_view(self.leads[i], fields) for i in unique[:batch_size]]

    @staticmethod
    def _lead_view(lead: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        view = {"id": lead["id"]}
        for name in fields:
            view[name] = lead.get(name)
        return view

    @staticmethod
    def _batch_size(params: dict[str, str]) -> int:
        raw = params.get("batchSize")
        if raw is None or raw == "":
            return MAX_BATCH
        if not INT_RE.match(raw) or not 1 <= int(raw) <= MAX_BATCH:
            raise ApiError("1003", f"Invalid batchSize '{raw}': 1 to {MAX_BATCH}")
        return int(raw)

    def associate(self, lead_id: int, params: dict[str, str]) -> list[Any]:
        """POST /rest/v1/leads/{id}/associate.json?cookie=.."""
        cookie = params.get("cookie", "")
        if not cookie:
            raise ApiError("701", "cookie cannot be blank")
        key = cookie_key(cookie)
        if key is None:
            raise ApiError("1012", f"Invalid cookie value '{cookie}'")
        with self.lock:
            if lead_id not in self.leads:
                raise ApiError("1004", "Lead not found")
            self.cookies[key] = {"leadId": lead_id, "cookie": cookie, "associatedAt": now_iso()}
            self.persist()
        return []

    @staticmethod
    def describe2() -> list[dict[str, Any]]:
        """GET /rest/v1/leads/describe2.json."""
        fields = []
        for f in LEAD_FIELDS.values():
            entry: dict[str, Any] = {
                "name": f.name,
                "displayName": f.display,
                "dataType": f.data_type,
                "updateable": not f.read_only,
                "crmManaged": False,
            }
            if f.length is not None:
                entry["length"] = f.length
            fields.append(entry)
        return [
            {
                "name": "API Lead",
                "searchableFields": [[name] for name in LEAD_SEARCHABLE],
                "fields": fields,
            }
        ]

    @staticmethod
    def describe() -> list[dict[str, Any]]:
        """GET /rest/v1/leads/describe.json (the older shape)."""
        result = []
        for f in LEAD_FIELDS.values():
            entry: dict[str, Any] = {
                "id": f.field_id,
                "displayName": f.display,
                "dataType": f.data_type,
                "rest": {"name": f.name, "readOnly": f.read_only},
                "soap": {"name": f.soap_name or f.name, "readOnly": f.read_only},
            }
            if f.length is not None:
                entry["length"] = f.length
            result.append(entry)
        return result

    # ---- programs and campaigns -------------------------------------------------------------

    def program_status(self, program_id: int, body: Any) -> list[dict[str, Any]]:
        """POST /rest/v1/programs/{id}/members/status.json."""
        if not isinstance(body, dict):
            raise ApiError("1003", "Invalid data: request body must be a JSON object")
        status_name = body.get("statusName")
        records = body.get("input")
        if not status_name:
            raise ApiError("701", "statusName cannot be blank")
        if records is None or records == []:
            raise ApiError("701", "input cannot be blank")
        if not isinstance(records, list):
            raise ApiError("1003", "Invalid data: input must be an array")
        if len(records) > MAX_BATCH:
            raise ApiError("1003", f"Too many records: {len(records)} in input, at most {MAX_BATCH} allowed")
        with self.lock:
            program = self.programs.get(program_id)
            if program is None:
                raise ApiError("1013", "Program not found")
            if status_name not in program["statuses"]:
                raise ApiError("1025", f"Program status '{status_name}' not found")
            members = self.memberships.setdefault(program_id, {})
            results = []
            for seq, rec in enumerate(records):
                lead_id = rec.get("leadId") if isinstance(rec, dict) else None
                ok, number = coerce("integer", None, lead_id)
                if lead_id is None or not ok:
                    results.append(
                        {
                            "seq": seq,
                            "status": "skipped",
                            "reasons": [record_reason("1003", "Invalid value for leadId")],
                        }
                    )
                    continue
                if number not in self.leads:
                    results.append(
                        {
                            "seq": seq,
                            "leadId": number,
                            "status": "skipped",
                            "reasons": [record_reason("1004", "Lead not found")],
                        }
                    )
                    continue
                status = "updated" if number in members else "created"
                members[number] = {"status": status_name, "updatedAt": now_iso()}
                results.append({"seq": seq, "leadId": number, "status": status})
            self.persist()
            return results

    def trigger_campaign(self, campaign_id: int, body: Any) -> list[dict[str, Any]]:
        """POST /rest/v1/campaigns/{id}/trigger.json."""
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            raise ApiError("701", "input cannot be blank")
        leads = body["input"].get("leads")
        tokens = body["input"].get("tokens", [])
        if not isinstance(leads, list) or not leads:
            raise ApiError("701", "leads cannot be blank")
        if len(leads) > MAX_TRIGGER_LEADS:
            raise ApiError("1003", f"Too many leads: {len(leads)}, at most {MAX_TRIGGER_LEADS} allowed")
        if not isinstance(tokens, list):
            raise ApiError("1003", "Invalid data: tokens must be an array")
        for token in tokens:
            if not isinstance(token, dict) or not re.match(
                r"^\{\{my\.[^{}]+\}\}$", str(token.get("name", ""))
            ):
                raise ApiError("1003", f"Invalid token '{token}': names look like {{{{my.name}}}}")
        lead_ids = []
        for entry in leads:
            ok, number = coerce("integer", None, entry.get("id") if isinstance(entry, dict) else None)
            if not ok or number is None:
                raise ApiError("1003", 'Invalid data: each lead is {"id": <integer>}')
            lead_ids.append(number)
        with self.lock:
            campaign = self.campaigns.get(campaign_id)
            if campaign is None:
                raise ApiError("1013", "Campaign not found")
            if not campaign.get("isRequestable", False):
                raise ApiError(
                    "1003",
                    "Campaign is not requestable (batch campaign or no 'Campaign is Requested' trigger)",
                )
            self.campaign_triggers.append(
                {
                    "campaignId": campaign_id,
                    "leadIds": [i for i in lead_ids if i in self.leads],
                    "unknownLeadIds": [i for i in lead_ids if i not in self.leads],
                    "tokens": tokens,
                    "at": now_iso(),
                }
            )
            self.persist()
        return [{"id": campaign_id}]

    # ---- custom activities ------------------------------------------------------------------

    def _type_view(self, t: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in t.items() if not k.startswith("_")}

    def create_activity_type(self, body: Any) -> list[dict[str, Any]]:
        """POST /rest/v1/activities/external/type.json."""
        if not isinstance(body, dict):
            raise ApiError("1003", "Invalid data: request body must be a JSON object")
        for required in ("apiName", "name", "triggerName", "filterName", "primaryAttribute"):
            if not body.get(required):
                raise ApiError("701", f"{required} cannot be blank")
        api_name = body["apiName"]
        primary = body["primaryAttribute"]
        if not isinstance(api_name, str) or not API_NAME_RE.match(api_name):
            raise ApiError("1003", f"Invalid apiName '{api_name}'")
        if not isinstance(primary, dict) or not all(primary.get(k) for k in ("apiName", "name", "dataType")):
            raise ApiError("1003", "primaryAttribute needs apiName, name and dataType")
        if primary["dataType"] not in ACTIVITY_ATTRIBUTE_TYPES:
            raise ApiError("1003", f"Invalid dataType '{primary['dataType']}'")
        with self.lock:
            if api_name in self.activity_types:
                raise ApiError("1017", f"Activity type with apiName '{api_name}' already exists")
            if any(t["name"] == body["name"] for t in self.activity_types.values()):
                raise ApiError("1017", f"Activity type with name '{body['name']}' already exists")
            if len(self.activity_types) >= self.config.max_activity_types:
                raise ApiError("1027", "Max Activity Type Limit Reached")
            stamp = now_iso()
            activity_type = {
                "id": self.next_type_id,
                "apiName": api_name,
                "name": body["name"],
                "description": body.get("description", ""),
                "triggerName": body["triggerName"],
                "filterName": body["filterName"],
                "primaryAttribute": {
                    "apiName": primary["apiName"],
                    "name": primary["name"],
                    "dataType": primary["dataType"],
                },
                "attributes": [],
                "status": "draft",
                "createdAt": stamp,
                "updatedAt": stamp,
                "_pendingAttributes": [],
            }
            self.next_type_id += 1
            self.activity_types[api_name] = activity_type
            self.persist()
            return [self._type_view(activity_type)]

    def create_type_attributes(self, api_name: str, body: Any) -> list[dict[str, Any]]:
        """POST /rest/v1/activities/external/type/{apiName}/attributes/create.json.

        On a draft type the attributes are live at once; on an approved type they wait in a
        draft until the next approve (as in Marketo).
        """
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("attributes"), list)
            or not body["attributes"]
        ):
            raise ApiError("701", "attributes cannot be blank")
        with self.lock:
            activity_type = self.activity_types.get(api_name)
            if activity_type is None:
                raise ApiError("1013", "Activity type not found")
            target = (
                activity_type["attributes"]
                if activity_type["status"] == "draft"
                else activity_type["_pendingAttributes"]
            )
            known = {a["apiName"] for a in activity_type["attributes"] + activity_type["_pendingAttributes"]}
            known.add(activity_type["primaryAttribute"]["apiName"])
            for attribute in body["attributes"]:
                if not isinstance(attribute, dict) or not all(
                    attribute.get(k) for k in ("apiName", "name", "dataType")
                ):
                    raise ApiError("1003", "each attribute needs apiName, name and dataType")
                if attribute["dataType"] not in ACTIVITY_ATTRIBUTE_TYPES:
                    raise ApiError("1003", f"Invalid dataType '{attribute['dataType']}'")
                if attribute["apiName"] in known:
                    raise ApiError("1017", f"Attribute '{attribute['apiName']}' already exists")
                if len(known) - 1 >= MAX_ATTRIBUTES_PER_TYPE:
                    raise ApiError("1028", "Max field limit reached")
                known.add(attribute["apiName"])
                target.append({k: attribute[k] for k in ("apiName", "name", "dataType")})
            activity_type["updatedAt"] = now_iso()
            self.persist()
            return [self._type_view(activity_type)]

    def approve_activity_type(self, api_name: str) -> list[dict[str, Any]]:
        """POST /rest/v1/activities/external/type/{apiName}/approve.json."""
        with self.lock:
            activity_type = self.activity_types.get(api_name)
            if activity_type is None:
                raise ApiError("1013", "Activity type not found")
            if activity_type["status"] == "approved" and not activity_type["_pendingAttributes"]:
                raise ApiError("709", "Business Rule Violation: no draft to approve")
            activity_type["attributes"].extend(activity_type["_pendingAttributes"])
            activity_type["_pendingAttributes"] = []
            activity_type["status"] = "approved"
            activity_type["updatedAt"] = now_iso()
            self.persist()
            return [self._type_view(activity_type)]

    def list_activity_types(self) -> list[dict[str, Any]]:
        """GET /rest/v1/activities/external/types.json."""
        with self.lock:
            return [self._type_view(t) for t in self.activity_types.values()]

    def all_activity_types(self) -> list[dict[str, Any]]:
        """GET /rest/v1/activities/types.json: standard types plus approved custom ones."""
        with self.lock:
            custom = [
                {
                    "id": t["id"],
                    "name": t["name"],
                    "description": t["description"],
                    "primaryAttribute": {
                        "name": t["primaryAttribute"]["name"],
                        "dataType": t["primaryAttribute"]["dataType"],
                    },
                    "attributes": [{"name": a["name"], "dataType": a["dataType"]} for a in t["attributes"]],
                }
                for t in self.activity_types.values()
                if t["status"] == "approved"
            ]
        return [dict(t) for t in STANDARD_ACTIVITY_TYPES] + custom

    def add_activities(self, body: Any) -> list[dict[str, Any]]:
        """POST /rest/v1/activities/external.json."""
        if not isinstance(body, dict):
            raise ApiError("1003", "Invalid data: request body must be a JSON object")
        records = body.get("input")
        if records is None or records == []:
            raise ApiError("701", "input cannot be blank")
        if not isinstance(records, list):
            raise ApiError("1003", "Invalid data: input must be an array")
        if len(records) > MAX_BATCH:
            raise ApiError("1003", f"Too many records: {len(records)} in input, at most {MAX_BATCH} allowed")
        with self.lock:
            results = [self._add_one_activity(rec) for rec in records]
            if any(r["status"] == "added" for r in results):
                self.persist()
            return results

    def _add_one_activity(self, rec: Any) -> dict[str, Any]:
        def skipped(code: str, message: str) -> dict[str, Any]:
            return {"status": "skipped", "reasons": [record_reason(code, message)]}

        if not isinstance(rec, dict):
            return skipped("1003", "Invalid data")
        for required in ("leadId", "activityDate", "activityTypeId", "primaryAttributeValue"):
            if rec.get(required) in (None, ""):
                return skipped("1002", f"Missing value for the required parameter '{required}'")
        ok, lead_id = coerce("integer", None, rec["leadId"])
        if not ok:
            return skipped("1001", f"Invalid value '{rec['leadId']}'. Required of type 'integer'")
        ok, type_id = coerce("integer", None, rec["activityTypeId"])
        if not ok:
            return skipped("1001", f"Invalid value '{rec['activityTypeId']}'. Required of type 'integer'")
        activity_type = next((t for t in self.activity_types.values() if t["id"] == type_id), None)
        if activity_type is None:
            return skipped("1013", f"Activity type '{type_id}' not found")
        if activity_type["status"] != "approved":
            return skipped("1003", f"Activity type '{activity_type['apiName']}' is not approved")
        if "apiName" in rec and rec["apiName"] != activity_type["apiName"]:
            return skipped("1003", "apiName does not match activityTypeId")
        if lead_id not in self.leads:
            return skipped("1004", "Lead not found")
        when = parse_iso(rec["activityDate"])
        if when is None:
            return skipped("1001", f"Invalid value '{rec['activityDate']}'. Required of type 'datetime'")
        ok, primary = coerce(activity_type["primaryAttribute"]["dataType"], 255, rec["primaryAttributeValue"])
        if not ok:
            return skipped("1003", "Invalid value for primaryAttributeValue")
        attributes_in = rec.get("attributes", [])
        if not isinstance(attributes_in, list):
            return skipped("1003", "Invalid data: attributes must be an array")
        if len(json.dumps(attributes_in)) > MAX_ATTRIBUTES_BYTES:
            return skipped("1049", "Failed to Create Activity: attributes exceed 65,536 bytes")
        defined = {a["apiName"]: a for a in activity_type["attributes"]}
        attributes = []
        for attribute in attributes_in:
            name = attribute.get("apiName") if isinstance(attribute, dict) else None
            if name not in defined:
                return skipped("1006", f"Field '{name}' not found")
            ok, value = coerce(defined[name]["dataType"], None, attribute.get("value"))
            if not ok:
                return skipped("1003", f"Invalid value for attribute '{name}'")
            attributes.append({"name": name, "value": value})
        activity = self._add_activity(
            {
                "leadId": lead_id,
                "activityDate": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "activityTypeId": type_id,
                "primaryAttributeValue": primary,
                "attributes": attributes,
            }
        )
        return {"id": activity["id"], "status": "added"}

    # ---- paging over activities -------------------------------------------------------------

    def paging_token(self, params: dict[str, str]) -> str:
        """GET /rest/v1/activities/pagingtoken.json?sinceDatetime=.."""
        since_raw = params.get("sinceDatetime", "")
        if not since_raw:
            raise ApiError("701", "sinceDatetime cannot be blank")
        since = parse_iso(since_raw)
        if since is None:
            raise ApiError("704", "Invalid date format")
        cutoff = since.timestamp()
        with self.lock:
            position = self.activity_ids[-1] if self.activity_ids else 0
            for activity in self.activities:
                if activity["_recordedAt"] >= cutoff:
                    position = activity["id"] - 1
                    break
            return encode_page_token(position)

    def _page(
        self,
        params: dict[str, str],
        keep: Callable[[dict[str, Any]], dict[str, Any] | None],
    ) -> dict[str, Any]:
        token = params.get("nextPageToken", "")
        if not token:
            raise ApiError("701", "nextPageToken cannot be blank")
        position = decode_page_token(token)
        if position is None:
            raise ApiError("1003", "Invalid nextPageToken")
        batch_size = self._batch_size(params)
        lead_filter = None
        if params.get("leadIds"):
            lead_filter = set()
            for value in split_csv(params["leadIds"]):
                if not INT_RE.match(value):
                    raise ApiError("1001", f"Invalid value '{value}'. Required of type 'integer'")
                lead_filter.add(int(value))
            if len(lead_filter) > 30:
                raise ApiError("1003", "Too many leadIds: at most 30")
        with self.lock:
            start = bisect_right(self.activity_ids, position)
            result: list[dict[str, Any]] = []
            last = position
            more = False
            for activity in self.activities[start:]:
                if lead_filter is not None and activity["leadId"] not in lead_filter:
                    last = activity["id"]
                    continue
                view = keep(activity)
                if view is None:
                    last = activity["id"]
                    continue
                if len(result) == batch_size:
                    more = True
                    break
                result.append(view)
                last = activity["id"]
            answer: dict[str, Any] = {"nextPageToken": encode_page_token(last), "moreResult": more}
            if result:  # Marketo omits `result` altogether on an empty page
                answer["result"] = result
            return answer

    def lead_changes(self, params: dict[str, str]) -> dict[str, Any]:
        """GET /rest/v1/activities/leadchanges.json?nextPageToken=..&fields=.."""
        fields = split_csv(params.get("fields"))
        if not fields:
            raise ApiError("701", "fields cannot be blank")
        for name in fields:
            if name not in LEAD_FIELDS:
                raise ApiError("1006", f"Field '{name}' not found")
        wanted = set(fields)

        def keep(activity: dict[str, Any]) -> dict[str, Any] | None:
            type_id = activity["activityTypeId"]
            if type_id == ACTIVITY_NEW_LEAD:
                return self._activity_view(activity)
            if type_id == ACTIVITY_CHANGE_DATA_VALUE:
                changed = [f for f in activity["fields"] if f["name"] in wanted]
                if changed:
                    view = self._activity_view(activity)
                    view["fields"] = changed
                    return view
            return None

        return self._page(params, keep)

    def list_activities(self, params: dict[str, str]) -> dict[str, Any]:
        """GET /rest/v1/activities.json?nextPageToken=..&activityTypeIds=.."""
        raw_types = split_csv(params.get("activityTypeIds"))
        if not raw_types:
            raise ApiError("701", "activityTypeIds cannot be blank")
        if len(raw_types) > 10:
            raise ApiError("1003", "Too many activityTypeIds: at most 10")
        types = set()
        for value in raw_types:
            if not INT_RE.match(value):
                raise ApiError("1001", f"Invalid value '{value}'. Required of type 'integer'")
            types.add(int(value))

        def keep(activity: dict[str, Any]) -> dict[str, Any] | None:
            return self._activity_view(activity) if activity["activityTypeId"] in types else None

        return self._page(params, keep)

    @staticmethod
    def _activity_view(activity: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in activity.items() if not k.startswith("_")}

    # ---- companies ----------------------------------------------------------------------------

    def get_companies(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET /rest/v1/companies.json?filterType=..&filterValues=..&fields=.."""
        filter_type = params.get("filterType", "")
        values = split_csv(params.get("filterValues"))
        if not filter_type:
            raise ApiError("701", "filterType cannot be blank")
        if not values:
            raise ApiError("701", "filterValues cannot be blank")
        if filter_type not in COMPANY_SEARCHABLE:
            raise ApiError("1011", f"Field '{filter_type}' not supported")
        if len(values) > MAX_BATCH:
            raise ApiError("1003", f"Too many values in filterValues: at most {MAX_BATCH}")
        fields = split_csv(params.get("fields")) or list(COMPANY_DEFAULT_FIELDS)
        for name in fields:
            if name not in COMPANY_FIELDS:
                raise ApiError("1006", f"Field '{name}' not found")
        with self.lock:
            found: list[dict[str, Any]] = []
            for value in values:
                for company in self.companies.values():
                    current = company.get(filter_type)
                    if filter_type == "id":
                        hit = str(current) == value
                    elif filter_type == "externalCompanyId":
                        hit = current == value
                    else:
                        hit = isinstance(current, str) and current.lower() == value.lower()
                    if hit and company not in found:
                        found.append(company)
            result = []
            for seq, company in enumerate(found):
                view: dict[str, Any] = {"seq": seq, "id": company["id"]}
                for name in fields:
                    view[name] = company.get(name)
                result.append(view)
            return result

    # ---- seeding (tests / demo) ----------------------------------------------------------------

    def seed(self, body: Any) -> tuple[bool, dict[str, Any]]:
        """POST /_peer/seed: leads (with cookies), companies, programs, campaigns."""
        if not isinstance(body, dict):
            raise PeerInputError("body must be a JSON object")
        unknown = set(body) - {"leads", "companies", "programs", "campaigns", "activities"}
        if unknown:
            raise PeerInputError(f"unknown keys {sorted(unknown)}")
        answer: dict[str, Any] = {}
        all_ok = True
        with self.lock:
            for program in body.get("programs", []):
                if (
                    not isinstance(program, dict)
                    or not isinstance(program.get("id"), int)
                    or not isinstance(program.get("statuses"), list)
                ):
                    raise PeerInputError("a program is {id:int, name, statuses:[..]}")
                self.programs[program["id"]] = {
                    "id": program["id"],
                    "name": program.get("name", f"Program {program['id']}"),
                    "channel": program.get("channel", "Chat"),
                    "statuses": [str(s) for s in program["statuses"]],
                }
            for campaign in body.get("campaigns", []):
                if not isinstance(campaign, dict) or not isinstance(campaign.get("id"), int):
                    raise PeerInputError("a campaign is {id:int, name, isRequestable:bool}")
                self.campaigns[campaign["id"]] = {
                    "id": campaign["id"],
                    "name": campaign.get("name", f"Campaign {campaign['id']}"),
                    "isRequestable": bool(campaign.get("isRequestable", True)),
                }
            company_results = []
            for company in body.get("companies", []):
                company_results.append(self._seed_company(company))
            answer["companies"] = company_results
            lead_results = []
            for lead in body.get("leads", []):
                if not isinstance(lead, dict):
                    raise PeerInputError("a lead is a JSON object")
                fields = {k: v for k, v in lead.items() if k != "cookie"}
                (result,) = [self._sync_one(fields, "createOrUpdate", "email", "Seed")]
                cookie = lead.get("cookie")
                if result["status"] != "skipped" and cookie:
                    key = cookie_key(str(cookie))
                    if key is None:
                        result = {**result, "cookie": "invalid (needs token:_mch-...)"}
                        all_ok = False
                    else:
                        self.cookies[key] = {
                            "leadId": result["id"],
                            "cookie": cookie,
                            "associatedAt": now_iso(),
                        }
                if result["status"] == "skipped":
                    all_ok = False
                lead_results.append(result)
            answer["leads"] = lead_results
            answer["activities"] = [self._seed_activity(a) for a in body.get("activities", [])]
            self.persist()
        return all_ok, answer

    def _seed_activity(self, activity: Any) -> dict[str, Any]:
        """A standard activity (Visit Webpage, Fill Out Form, Click Email...) of a lead found by
        `leadId` or `email`, dated `activityDate` (default now)."""
        if not isinstance(activity, dict):
            raise PeerInputError("an activity is a JSON object")
        type_id = activity.get("activityTypeId")
        if not any(t["id"] == type_id for t in STANDARD_ACTIVITY_TYPES):
            raise PeerInputError(f"activityTypeId must be a standard type, not {type_id!r}")
        lead_id = activity.get("leadId")
        if lead_id is None and isinstance(activity.get("email"), str):
            ids = self.email_index.get(activity["email"].lower(), [])
            lead_id = ids[0] if ids else None
        if lead_id not in self.leads:
            raise PeerInputError("an activity needs the leadId or email of a known lead")
        when = parse_iso(activity.get("activityDate", now_iso()))
        if when is None:
            raise PeerInputError("activityDate must be an ISO 8601 date-time")
        added = self._add_activity(
            {
                "leadId": lead_id,
                "activityDate": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "activityTypeId": type_id,
                "primaryAttributeValueId": int(activity.get("primaryAttributeValueId", 1)),
                "primaryAttributeValue": str(activity.get("primaryAttributeValue", "")),
                "attributes": [],
            }
        )
        return {"id": added["id"], "leadId": lead_id}

    # ---- bulk extract ---------------------------------------------------------------------------

    def _bulk(self, work: Callable[[float], Any]) -> Any:
        with self.lock:
            now = time.time()
            self.exports.advance(now, lambda: list(self.leads.values()))
            try:
                return work(now)
            except BulkError as err:
                raise ApiError(err.code, err.message) from None

    def export_create(self, body: Any) -> list[dict[str, Any]]:
        return [self._bulk(lambda now: self.exports.create(body, set(LEAD_FIELDS), now))]

    def export_enqueue(self, job_id: str) -> list[dict[str, Any]]:
        return [self._bulk(lambda now: self.exports.enqueue(job_id, now, lambda: list(self.leads.values())))]

    def export_status(self, job_id: str) -> list[dict[str, Any]]:
        return [self._bulk(lambda _now: self.exports.status(job_id))]

    def export_cancel(self, job_id: str) -> list[dict[str, Any]]:
        return [self._bulk(lambda _now: self.exports.cancel(job_id))]

    def export_list(self, params: dict[str, str]) -> list[dict[str, Any]]:
        return self._bulk(lambda _now: self.exports.list(params))

    def export_file(self, job_id: str, range_header: str | None) -> "Raw":
        status, data, headers = self._bulk(lambda _now: self.exports.file(job_id, range_header))
        return Raw(status, data, "text/csv;charset=UTF-8", headers)

    def _seed_company(self, company: Any) -> dict[str, Any]:
        if not isinstance(company, dict):
            raise PeerInputError("a company is a JSON object")
        record: dict[str, Any] = {}
        for name, raw in company.items():
            fdef = COMPANY_FIELDS.get(name)
            if fdef is None or fdef.read_only:
                raise PeerInputError(f"unknown or read-only company field '{name}'")
            ok, value = coerce(fdef.data_type, fdef.length, raw)
            if not ok:
                raise PeerInputError(f"invalid value for company field '{name}'")
            record[name] = value
        if not record.get("company") and not record.get("externalCompanyId"):
            raise PeerInputError("a company needs 'company' or 'externalCompanyId'")
        stamp = now_iso()
        record.update({"id": self.next_company_id, "createdAt": stamp, "updatedAt": stamp})
        self.companies[self.next_company_id] = record
        self.next_company_id += 1
        return {"id": record["id"], "status": "created"}

    # ---- inspection ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """GET /_peer/state."""
        with self.lock:
            counters = json.loads(json.dumps(self.counters))
            counters["in_flight"] = self.total_in_flight
            return {
                "config": self.config.public(),
                "leads": [dict(lead) for lead in sorted(self.leads.values(), key=lambda l: l["id"])],
                "lead_writes": self.lead_writes,
                "cookies": self.cookies,
                "programs": list(self.programs.values()),
                "program_members": {
                    str(pid): {str(lid): m for lid, m in members.items()}
                    for pid, members in self.memberships.items()
                },
                "campaigns": list(self.campaigns.values()),
                "campaign_triggers": self.campaign_triggers,
                "activity_types": [
                    {**self._type_view(t), "pendingAttributes": t["_pendingAttributes"]}
                    for t in self.activity_types.values()
                ],
                "activities": [
                    self._activity_view(a)
                    for a in self.activities
                    if a["activityTypeId"] >= FIRST_CUSTOM_ACTIVITY_TYPE_ID
                ],
                "lead_changes": [
                    self._activity_view(a)
                    for a in self.activities
                    if a["activityTypeId"] in (ACTIVITY_NEW_LEAD, ACTIVITY_CHANGE_DATA_VALUE)
                ],
                "companies": list(self.companies.values()),
                "exports": self.exports.public(),
                "counters": counters,
                "recent_requests": list(self.recent),
            }

    def configure(self, body: Any) -> dict[str, Any]:
        """POST /_peer/config: change limits, faults and token lifetime at runtime."""
        if not isinstance(body, dict):
            raise PeerInputError("body must be a JSON object")
        allowed = set(CONFIG_KEYS) | {"fault_kinds", "expire_tokens"}
        unknown = set(body) - allowed
        if unknown:
            raise PeerInputError(f"unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        with self.lock:
            updates: dict[str, Any] = {}
            for key, convert in CONFIG_KEYS.items():
                if key in body:
                    try:
                        updates[key] = convert(body[key])
                    except (TypeError, ValueError) as err:
                        raise PeerInputError(f"{key}: {err}") from err
            if "fault_kinds" in body:
                kinds = body["fault_kinds"]
                if not isinstance(kinds, list) or not kinds or any(str(k) not in FAULT_KINDS for k in kinds):
                    raise PeerInputError(f"fault_kinds: a non-empty list of {list(FAULT_KINDS)}")
                updates["fault_kinds"] = tuple(str(k) for k in kinds)
            if not 0.0 <= updates.get("fault_rate", self.config.fault_rate) <= 1.0:
                raise PeerInputError("fault_rate must be within 0..1")
            self.config = dataclasses.replace(self.config, **updates)
            self.exports.processing_seconds = self.config.export_seconds
            self.exports.daily_bytes = self.config.export_daily_bytes
            self.exports.updated_at_filter = self.config.updated_at_filter
            if "fault_seed" in updates:
                self.rng = random.Random(self.config.fault_seed)
            if body.get("expire_tokens"):
                self.expire_tokens()
            return self.config.public()


# --------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Call:
    """One parsed REST request as the route handlers see it."""

    params: dict[str, str]
    body: Any
    groups: tuple[str, ...]
    range_header: str | None = None


@dataclasses.dataclass
class Raw:
    """A non-JSON answer (an export file): HTTP status, body, content type, extra headers."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


Handler = Callable[[Store, Call], "dict[str, Any] | Raw"]


def result_of(items: list[Any]) -> dict[str, Any]:
    """The usual success envelope body."""
    return {"result": items}


ROUTES: list[tuple[str, re.Pattern[str], bool, Handler]] = [
    # (method, path, needs a JSON body, handler)
    ("POST", re.compile(r"/rest/v1/leads\.json"), True, lambda s, c: result_of(s.sync_leads(c.body))),
    ("GET", re.compile(r"/rest/v1/leads\.json"), False, lambda s, c: result_of(s.get_leads(c.params))),
    ("POST", re.compile(r"/rest/v1/leads/(\d+)/associate\.json"), False,
     lambda s, c: result_of(s.associate(int(c.groups[0]), c.params))),
    ("GET", re.compile(r"/rest/v1/leads/describe2\.json"), False, lambda s, c: result_of(s.describe2())),
    ("GET", re.compile(r"/rest/v1/leads/describe\.json"), False, lambda s, c: result_of(s.describe())),
    ("POST", re.compile(r"/rest/v1/programs/(\d+)/members/status\.json"), True,
     lambda s, c: result_of(s.program_status(int(c.groups[0]), c.body))),
    ("POST", re.compile(r"/rest/v1/campaigns/(\d+)/trigger\.json"), True,
     lambda s, c: result_of(s.trigger_campaign(int(c.groups[0]), c.body))),
    ("POST", re.compile(r"/rest/v1/activities/external/type\.json"), True,
     lambda s, c: result_of(s.create_activity_type(c.body))),
    ("POST", re.compile(r"/rest/v1/activities/external/type/([A-Za-z0-9_]+)/attributes/create\.json"), True,
     lambda s, c: result_of(s.create_type_attributes(c.groups[0], c.body))),
    ("POST", re.compile(r"/rest/v1/activities/external/type/([A-Za-z0-9_]+)/approve\.json"), False,
     lambda s, c: result_of(s.approve_activity_type(c.groups[0]))),
    ("GET", re.compile(r"/rest/v1/activities/external/types\.json"), False,
     lambda s, c: result_of(s.list_activity_types())),
    ("GET", re.compile(r"/rest/v1/activities/types\.json"), False, lambda s, c: result_of(s.all_activity_types())),
    ("POST", re.compile(r"/rest/v1/activities/external\.json"), True, lambda s, c: result_of(s.add_activities(c.body))),
    ("GET", re.compile(r"/rest/v1/activities/pagingtoken\.json"), False,
     lambda s, c: {"nextPageToken": s.paging_token(c.params)}),
    ("GET", re.compile(r"/rest/v1/activities/leadchanges\.json"), False, lambda s, c: s.lead_changes(c.params)),
    ("GET", re.compile(r"/rest/v1/activities\.json"), False, lambda s, c: s.list_activities(c.params)),
    ("GET", re.compile(r"/rest/v1/companies\.json"), False, lambda s, c: result_of(s.get_companies(c.params))),
    ("POST", re.compile(r"/bulk/v1/leads/export/create\.json"), True, lambda s, c: result_of(s.export_create(c.body))),
    ("POST", re.compile(r"/bulk/v1/leads/export/([0-9a-f-]+)/enqueue\.json"), False,
     lambda s, c: result_of(s.export_enqueue(c.groups[0]))),
    ("GET", re.compile(r"/bulk/v1/leads/export/([0-9a-f-]+)/status\.json"), False,
     lambda s, c: result_of(s.export_status(c.groups[0]))),
    ("POST", re.compile(r"/bulk/v1/leads/export/([0-9a-f-]+)/cancel\.json"), False,
     lambda s, c: result_of(s.export_cancel(c.groups[0]))),
    ("GET", re.compile(r"/bulk/v1/leads/export/([0-9a-f-]+)/file\.json"), False,
     lambda s, c: s.export_file(c.groups[0], c.range_header)),
    ("GET", re.compile(r"/bulk/v1/leads/export\.json"), False, lambda s, c: result_of(s.export_list(c.params))),
]  # fmt: skip


def first_values(query: str) -> dict[str, str]:
    """Query or form parameters, first value of each."""
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


class PeerHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler; every answer carries Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "marketo-peer/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    store: Store  # set on the subclass built by make_server()
    verbose: bool = False

    def setup(self) -> None:
        super().setup()
        # One write per response already; NODELAY also avoids delayed-ACK stalls.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            sys.stderr.write(f"{PEER_NAME}: {format % args}\n")

    # ---- plumbing -------------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        if self.command != "HEAD":
            self._headers_buffer.append(body)  # type: ignore[attr-defined]
        self.flush_headers()

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        self._send(status, body, "application/json;charset=UTF-8", headers)

    def _read_body(self) -> bytes | None:
        """The request body; None when an error answer (400/413) was already sent."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1026)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self._send(400, b"bad chunk", "text/plain", close=True)
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > DRAIN_LIMIT_BYTES:
                    self._send(413, html_error(413, "Request Entity Too Large"), "text/html", close=True)
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            data = b"".join(chunks)
            if len(data) > MAX_BODY_BYTES:
                self._send(413, html_error(413, "Request Entity Too Large"), "text/html")
                return None
            return data
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError(raw_length)
        except ValueError:
            self._send(400, b"bad Content-Length", "text/plain", close=True)
            return None
        if length > MAX_BODY_BYTES:
            if length <= DRAIN_LIMIT_BYTES:
                remaining = length
                while remaining > 0:
                    got = self.rfile.read(min(remaining, 65536))
                    if not got:
                        break
                    remaining -= len(got)
                self._send(413, html_error(413, "Request Entity Too Large"), "text/html")
            else:
                self._send(413, html_error(413, "Request Entity Too Large"), "text/html", close=True)
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        if len(self.path.encode()) > MAX_URI_BYTES:
            self._send(414, html_error(414, "Request-URI Too Large"), "text/html")
            return
        split = urlsplit(self.path)
        try:
            if split.path.startswith("/_peer/"):
                self._inspection(split.path, body)
            elif split.path == "/identity/oauth/token":
                self._identity(split.query, body)
            elif split.path.startswith(("/rest/", "/bulk/")):
                self._rest(split.path, split.query, body)
            else:
                self._send(404, html_error(404, "Not Found"), "text/html")
        except Exception:  # noqa: BLE001 - a peer bug must answer, and be visible
            traceback.print_exc()
            with self.store.lock:
                self.store.counters["internal_errors"] += 1
            self._send_json(
                200,
                {
                    "requestId": request_id(),
                    "success": False,
                    "errors": [{"code": "611", "message": "System error"}],
                },
            )

    # ---- identity -------------------------------------------------------------------------------

    def _identity(self, query: str, body: bytes) -> None:
        if self.command not in ("GET", "POST"):
            self._send_json(405, {"error": "method_not_allowed", "error_description": "Use GET or POST"})
            return
        params = first_values(query)
        if self.command == "POST" and body:
            content_type = self.headers.get("Content-Type", "")
            if "application/x-www-form-urlencoded" in content_type:
                params.update(first_values(body.decode("utf-8", "replace")))
        grant = params.get("grant_type")
        if not grant:
            self._send_json(400, {"error": "invalid_request", "error_description": "Missing grant type"})
            return
        if grant != "client_credentials":
            self._send_json(
                400,
                {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type: {grant}"},
            )
            return
        token = self.store.issue_token(params.get("client_id", ""), params.get("client_secret", ""))
        if token is None:
            self._send_json(401, {"error": "unauthorized", "error_description": "Bad client credentials"})
            return
        self._send_json(200, token, {"Cache-Control": "no-store"})

    # ---- REST ---------------------------------------------------------------------------------

    def _rest(self, path: str, query: str, body: bytes) -> None:
        store = self.store
        params = first_values(query)
        with store.lock:
            store.counters["calls_total"] += 1
        method = self.command
        entry: dict[str, Any] = {"at": now_iso(), "method": method, "path": path, "query": query}
        try:
            client = store.authenticate(self.headers.get("Authorization"), params)
            entry["client"] = client
            # Marketo's escape hatch for long GETs: POST ?_method=GET with a form body.
            if method == "POST" and params.get("_method", "").upper() == "GET":
                if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
                    raise ApiError("612", "Invalid Content Type")
                params.update(first_values(body.decode("utf-8", "replace")))
                method, body = "GET", b""
            route = None
            path_known = False
            for route_method, pattern, needs_body, handler in ROUTES:
                match = pattern.fullmatch(path)
                if match:
                    path_known = True
                    if route_method == method:
                        route = (needs_body, handler, match.groups())
                        break
            if route is None:
                if path_known:
                    raise ApiError("605", "HTTP Method not supported")
                raise ApiError("610", "Requested resource not found")
            needs_body, handler, groups = route
            parsed: Any = None
            if needs_body:
                content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if content_type != "application/json":
                    raise ApiError("612", "Invalid Content Type")
                try:
                    parsed = json.loads(body.decode("utf-8")) if body else None
                except (UnicodeDecodeError, json.JSONDecodeError):
                    raise ApiError("609", "Invalid JSON") from None
                if parsed is None:
                    raise ApiError("609", "Invalid JSON")
        except ApiError as err:
            self._answer_error(err, entry)
            return
        try:
            fault = store.admit(client)
        except ApiError as err:
            self._answer_error(err, entry)
            return
        # Compute the answer, give the concurrency slot back, then send: a client that keeps
        # at most max-concurrent calls outstanding must never meet 615.
        outcome: ApiError | dict[str, Any] | Raw | None = None  # None stands for the gateway's 502
        try:
            if fault in ERROR_FAULT_MESSAGES:
                entry["fault"] = fault
                outcome = ApiError(fault, ERROR_FAULT_MESSAGES[fault])
            elif fault != "502":
                if fault == "slow":
                    entry["fault"] = fault
                    time.sleep(store.config.slow_ms / 1000.0)
                try:
                    call = Call(params=params, body=parsed, groups=groups, range_header=self.headers.get("Range"))
                    outcome = handler(store, call)
                except ApiError as err:
                    outcome = err
        finally:
            store.release(client)
        if outcome is None:
            entry.update(status=502, fault="502")
            store.note_request(entry)
            self._send(502, BAD_GATEWAY_HTML, "text/html")
        elif isinstance(outcome, ApiError):
            self._answer_error(outcome, entry)
        elif isinstance(outcome, Raw):
            entry["status"] = outcome.status
            store.note_request(entry)
            self._send(outcome.status, outcome.body, outcome.content_type, outcome.headers)
        else:
            entry["status"] = 200
            store.note_request(entry)
            self._send_json(200, {"requestId": request_id(), **outcome, "success": True})

    def _answer_error(self, err: ApiError, entry: dict[str, Any]) -> None:
        entry.update(status=200, code=err.code, message=err.message)
        self.store.note_request(entry)
        self._send_json(
            200,
            {
                "requestId": request_id(),
                "success": False,
                "errors": [{"code": err.code, "message": err.message}],
            },
        )

    # ---- inspection -------------------------------------------------------------------------------

    def _inspection(self, path: str, body: bytes) -> None:
        store = self.store
        try:
            parsed = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            self._send_json(400, {"error": f"invalid JSON: {err}"})
            return
        try:
            if path == "/_peer/health" and self.command == "GET":
                self._send_json(
                    200, {"ok": True, "name": PEER_NAME, "uptime_s": round(time.time() - store.started, 3)}
                )
            elif path == "/_peer/state" and self.command == "GET":
                self._send_json(200, store.state())
            elif path == "/_peer/reset" and self.command == "POST":
                store.reset(clear_tokens=bool(isinstance(parsed, dict) and parsed.get("tokens")))
                self._send_json(200, {"ok": True})
            elif path == "/_peer/config" and self.command == "POST":
                self._send_json(200, {"ok": True, "config": store.configure(parsed)})
            elif path == "/_peer/seed" and self.command == "POST":
                ok, answer = store.seed(parsed)
                self._send_json(200 if ok else 400, {"ok": ok, **answer})
            else:
                self._send_json(404, {"error": f"no inspection endpoint {self.command} {path}"})
        except PeerInputError as err:
            self._send_json(400, {"error": str(err)})


class PeerServer(ThreadingHTTPServer):
    """Threaded server with a deeper accept queue for bursts of connections."""

    daemon_threads = True
    request_queue_size = 128


def make_server(host: str, port: int, store: Store, verbose: bool = False) -> PeerServer:
    """Bind the peer; port 0 picks a free one (see server.server_address)."""
    handler = type("BoundPeerHandler", (PeerHandler,), {"store": store, "verbose": verbose})
    return PeerServer((host, port), handler)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line flags (see tests/peers/README.md)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else PEER_NAME)
    parser.add_argument("--port", type=int, default=9101)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--client-id", default="dynchat")
    parser.add_argument("--client-secret", default="secret")
    parser.add_argument("--window-seconds", type=float, default=20.0)
    parser.add_argument("--window-calls", type=int, default=100)
    parser.add_argument("--max-concurrent", type=int, default=10)
    parser.add_argument("--daily-quota", type=int, default=50000)
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=1)
    parser.add_argument(
        "--fault-kinds", default=",".join(FAULT_KINDS), help="comma list of 604,608,611,502,slow"
    )
    parser.add_argument("--slow-ms", type=int, default=3000)
    parser.add_argument("--max-activity-types", type=int, default=10)
    parser.add_argument("--export-seconds", type=float, default=1.0, help="bulk export processing time")
    parser.add_argument("--export-daily-bytes", type=int, default=500 * 1024 * 1024)
    parser.add_argument("--state-file", default=None)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the peer binds only to loopback")
    kinds = split_csv(args.fault_kinds)
    if not kinds or any(k not in FAULT_KINDS for k in kinds):
        parser.error(f"--fault-kinds: a comma list of {','.join(FAULT_KINDS)}")
    args.fault_kinds = tuple(kinds)
    return args


def main(argv: list[str] | None = None) -> int:
    """Start the peer and serve until SIGINT / SIGTERM."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = Config(
        client_id=args.client_id,
        client_secret=args.client_secret,
        window_seconds=args.window_seconds,
        window_calls=args.window_calls,
        max_concurrent=args.max_concurrent,
        daily_quota=args.daily_quota,
        token_ttl=args.token_ttl,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_kinds=args.fault_kinds,
        slow_ms=args.slow_ms,
        max_activity_types=args.max_activity_types,
        export_seconds=args.export_seconds,
        export_daily_bytes=args.export_daily_bytes,
    )
    store = Store(config, args.state_file)
    server = make_server(args.host, args.port, store, args.verbose)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    print(f"{PEER_NAME} listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        store.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
