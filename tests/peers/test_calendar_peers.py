"""Behaviour tests for the calendar peers (Google, Graph, Radicale launcher) and the mail catcher.

Each server runs as a subprocess on free ports. Stdlib only (urllib, smtplib) on the client
side; the Radicale and mail-catcher tests need ``pip install -r tests/peers/requirements.txt``.
Run from the repo root:
``python3 -m unittest discover -s tests/peers -p 'test_calendar_peers.py'``.
"""

from __future__ import annotations

import base64
import json
import os
import selectors
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
CLIENT = {"client_id": "dynchat-local-client", "client_secret": "dynchat-local-secret"}
START_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 15.0


class Server:
    """A peer subprocess; ``urls`` holds every ``http://127.0.0.1:PORT`` it printed."""

    def __init__(self, args: list[str], ready_word: str, tmp: str) -> None:
        self.stderr_path = os.path.join(tmp, f"{Path(args[0]).stem}.stderr")
        self.stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=HERE,
        )
        self.lines: list[str] = []
        if self.proc.stdout is not None and self.read_until(ready_word):
            return
        self.stop()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as fh:
            err = fh.read()[-3000:]
        raise RuntimeError(f"{args[0]} did not get ready: {self.lines} {err}")

    def read_until(self, ready_word: str) -> bool:
        """Collect stdout lines until one holds ``ready_word``; bounded in time and lines."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        pending = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            for _ in range(200):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(timeout=remaining):
                    return False
                chunk = os.read(fd, 4096)  # raw reads: no buffered line hides from select()
                if not chunk:
                    return False
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    line = raw.decode("utf-8", "replace").strip()
                    self.lines.append(line)
                    if ready_word in line:
                        return True
            return False
        finally:
            sel.close()

    def url(self, contains: str = "listening on") -> str:
        for line in self.lines:
            if contains in line:
                start = line.index("http://")
                return line[start:].split()[0]
        raise LookupError(contains)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect())


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def call(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    hdrs = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with OPENER.open(req, timeout=HTTP_TIMEOUT_S) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        body = err.read()
        err.close()
        return Reply(err.code, err.headers, body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------------------


class GooglePeerTest(unittest.TestCase):
    tmp: str
    server: Server
    base: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="google-peer-")
        state = os.path.join(cls.tmp, "state.json")
        cls.server = Server(
            ["google_peer.py", "--port", "0", "--state-file", state], "listening on", cls.tmp
        )
        cls.base = cls.server.url()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        self.assertEqual(call("POST", f"{self.base}/_peer/reset").status, 200)
        seeded = call(
            "POST",
            f"{self.base}/_peer/seed",
            json_body={
                "accounts": [
                    {
                        "email": "alice@example.com",
                        "refresh_token": "1//rt-alice",
                        "time_zone": "Europe/Amsterdam",
                    },
                    {"email": "bob@example.com", "refresh_token": "1//rt-bob"},
                ],
                "busy": [
                    {
                        "calendar": "alice@example.com",
                        "start": "2026-11-25T09:00:00Z",
                        "end": "2026-11-25T10:00:00Z",
                    },
                ],
            },
        )
        self.assertEqual(seeded.status, 200, seeded.text)

    def refresh(self, token: str) -> Reply:
        return call(
            "POST",
            f"{self.base}/token",
            form={"grant_type": "refresh_token", "refresh_token": token, **CLIENT},
        )

    def access_token(self, refresh: str = "1//rt-alice") -> str:
        reply = self.refresh(refresh)
        self.assertEqual(reply.status, 200, reply.text)
        return str(reply.json()["access_token"])

    def free_busy(self, token: str, ids: list[str]) -> Reply:
        return call(
            "POST",
            f"{self.base}/calendar/v3/freeBusy",
            json_body={
                "timeMin": "2026-11-25T00:00:00Z",
                "timeMax": "2026-11-26T00:00:00Z",
                "timeZone": "UTC",
                "items": [{"id": i} for i in ids],
            },
            headers=bearer(token),
        )

    def insert(self, token: str, body: dict[str, Any]) -> Reply:
        return call(
            "POST",
            f"{self.base}/calendar/v3/calendars/primary/events?sendUpdates=all",
            json_body=body,
            headers=bearer(token),
        )

    def test_invalid_grant_after_revoke(self) -> None:
        token = self.access_token()
        self.assertEqual(self.free_busy(token, ["primary"]).status, 200)
        self.assertEqual(
            call(
                "POST", f"{self.base}/_peer/config", json_body={"revoke": "alice@example.com"}
            ).status,
            200,
        )
        reply = self.refresh("1//rt-alice")
        self.assertEqual(reply.status, 400)
        self.assertEqual(
            reply.json(),
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        )
        # The revoked grant's access tokens die with it; the other account is untouched.
        self.assertEqual(self.free_busy(token, ["primary"]).status, 401)
        self.assertEqual(self.refresh("1//rt-bob").status, 200)
        self.assertEqual(self.refresh("1//never-issued").json()["error"], "invalid_grant")
        wrong = call(
            "POST",
            f"{self.base}/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": "1//rt-bob",
                "client_id": CLIENT["client_id"],
                "client_secret": "wrong",
            },
        )
        self.assertEqual((wrong.status, wrong.json()["error"]), (401, "invalid_client"))

    def test_access_token_expires(self) -> None:
        call("POST", f"{self.base}/_peer/config", json_body={"access_token_ttl": 0})
        reply = self.refresh("1//rt-alice")
        self.assertEqual(reply.json()["expires_in"], 0)
        self.assertEqual(self.free_busy(reply.json()["access_token"], ["primary"]).status, 401)

    def test_bearer_required(self) -> None:
        body = {
            "timeMin": "2026-11-25T00:00:00Z",
            "timeMax": "2026-11-26T00:00:00Z",
            "items": [{"id": "primary"}],
        }
        missing = call("POST", f"{self.base}/calendar/v3/freeBusy", json_body=body)
        self.assertEqual(missing.status, 401)
        self.assertIn("WWW-Authenticate", missing.headers)
        err = missing.json()["error"]
        self.assertEqual((err["code"], err["status"]), (401, "UNAUTHENTICATED"))
        bogus = call(
            "POST",
            f"{self.base}/calendar/v3/freeBusy",
            json_body=body,
            headers=bearer("ya29.bogus"),
        )
        self.assertEqual(bogus.status, 401)
        self.assertEqual(bogus.json()["error"]["errors"][0]["reason"], "authError")

    def test_consent_redirect_and_code_exchange(self) -> None:
        query = urlencode(
            {
                "client_id": CLIENT["client_id"],
                "response_type": "code",
                "redirect_uri": "http://127.0.0.1:8787/oauth/google/callback",
                "scope": "openid email https://www.googleapis.com/auth/calendar",
                "access_type": "offline",
                "prompt": "consent",
                "state": "st-1",
                "login_hint": "bob@example.com",
            }
        )
        reply = call("GET", f"{self.base}/o/oauth2/v2/auth?{query}")
        self.assertEqual(reply.status, 302)
        location = urlsplit(reply.headers["Location"])
        self.assertEqual(location.path, "/oauth/google/callback")
        params = {k: v[0] for k, v in parse_qs(location.query).items()}
        self.assertEqual(params["state"], "st-1")
        form = {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": "http://127.0.0.1:8787/oauth/google/callback",
            **CLIENT,
        }
        tokens = call("POST", f"{self.base}/token", form=form)
        self.assertEqual(tokens.status, 200, tokens.text)
        self.assertIn("refresh_token", tokens.json())
        self.assertIn("id_token", tokens.json())
        cal = call(
            "GET",
            f"{self.base}/calendar/v3/calendars/primary",
            headers=bearer(tokens.json()["access_token"]),
        )
        self.assertEqual(cal.json()["id"], "bob@example.com")
        self.assertEqual(
            call("POST", f"{self.base}/token", form=form).json()["error"], "invalid_grant"
        )
        self.assertEqual(self.refresh(tokens.json()["refresh_token"]).status, 200)

    def test_event_id_idempotency(self) -> None:
        token = self.access_token()
        event = {
            "id": "dcbooking0001",
            "summary": "Intro call",
            "start": {"dateTime": "2026-11-25T11:00:00", "timeZone": "Europe/Amsterdam"},
            "end": {"dateTime": "2026-11-25T11:30:00", "timeZone": "Europe/Amsterdam"},
            "attendees": [{"email": "visitor@buyer.example"}],
        }
        first = self.insert(token, event)
        self.assertEqual(first.status, 200, first.text)
        self.assertEqual(first.json()["id"], "dcbooking0001")
        again = self.insert(token, event)
        self.assertEqual(again.status, 409)
        self.assertEqual(again.json()["error"]["errors"][0]["reason"], "duplicate")
        for bad_id in ("ab", "UPPERCASE123", "withw-wxyz", "has_underscore"):
            self.assertEqual(self.insert(token, {**event, "id": bad_id}).status, 400, bad_id)
        no_zone = {**event, "id": "dcbooking0002", "start": {"dateTime": "2026-11-25T11:00:00"}}
        self.assertEqual(self.insert(token, no_zone).status, 400)
        listed = call(
            "GET",
            f"{self.base}/calendar/v3/calendars/primary/events?"
            "timeMin=2026-11-25T10:15:00Z&timeMax=2026-11-25T12:00:00Z",
            headers=bearer(token),
        ).json()
        self.assertEqual([e["id"] for e in listed["items"]], ["dcbooking0001"])
        state = call("GET", f"{self.base}/_peer/state").json()
        self.assertEqual([u["to"] for u in state["sent_updates"]], [["visitor@buyer.example"]])

    def test_meet_conference_needs_conference_data_version_1(self) -> None:
        token = self.access_token()
        event = {
            "id": "dcmeet0001",
            "summary": "Intro call",
            "start": {"dateTime": "2026-11-25T11:00:00Z"},
            "end": {"dateTime": "2026-11-25T11:30:00Z"},
            "conferenceData": {
                "createRequest": {
                    "requestId": "dcmeet0001",
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            },
        }
        events = f"{self.base}/calendar/v3/calendars/primary/events"
        # Without conferenceDataVersion=1 Google ignores the request: no conference, no error.
        plain = call("POST", events, json_body=event, headers=bearer(token))
        self.assertEqual(plain.status, 200, plain.text)
        self.assertNotIn("conferenceData", plain.json())
        self.assertNotIn("hangoutLink", plain.json())
        with_meet = call(
            "POST",
            f"{events}?conferenceDataVersion=1&sendUpdates=none",
            json_body={**event, "id": "dcmeet0002"},
            headers=bearer(token),
        )
        self.assertEqual(with_meet.status, 200, with_meet.text)
        made = with_meet.json()
        video = [p for p in made["conferenceData"]["entryPoints"] if p["entryPointType"] == "video"]
        self.assertRegex(video[0]["uri"], r"^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}$")
        self.assertEqual(made["hangoutLink"], video[0]["uri"])
        self.assertEqual(made["conferenceData"]["createRequest"]["status"]["statusCode"], "success")
        # A patch of the times keeps the conference; bad versions and requests are 400s.
        patched = call(
            "PATCH",
            f"{events}/dcmeet0002?sendUpdates=none",
            json_body={"start": {"dateTime": "2026-11-25T12:00:00Z"}, "end": {"dateTime": "2026-11-25T12:30:00Z"}},
            headers=bearer(token),
        )
        self.assertEqual(patched.status, 200, patched.text)
        self.assertEqual(patched.json()["hangoutLink"], made["hangoutLink"])
        for query, body in (
            ("conferenceDataVersion=2", {**event, "id": "dcmeet0003"}),
            (
                "conferenceDataVersion=1",
                {**event, "id": "dcmeet0004", "conferenceData": {"createRequest": {"requestId": ""}}},
            ),
            (
                "conferenceDataVersion=1",
                {
                    **event,
                    "id": "dcmeet0005",
                    "conferenceData": {
                        "createRequest": {"requestId": "r", "conferenceSolutionKey": {"type": "zoom"}}
                    },
                },
            ),
        ):
            bad = call("POST", f"{events}?{query}", json_body=body, headers=bearer(token))
            self.assertEqual(bad.status, 400, (query, bad.text))

    def test_free_busy_reflects_created_events(self) -> None:
        token = self.access_token()
        before = self.free_busy(token, ["primary", "nobody@example.com"]).json()["calendars"]
        self.assertEqual(
            before["primary"]["busy"],
            [{"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"}],
        )
        self.assertEqual(before["nobody@example.com"]["errors"][0]["reason"], "notFound")
        opaque = self.insert(
            token,
            {
                "id": "slot1400",
                "summary": "Demo",
                "start": {"dateTime": "2026-11-25T14:00:00Z", "timeZone": "UTC"},
                "end": {"dateTime": "2026-11-25T14:30:00Z", "timeZone": "UTC"},
            },
        )
        self.assertEqual(opaque.status, 200, opaque.text)
        transparent = self.insert(
            token,
            {
                "summary": "Reminder",
                "transparency": "transparent",
                "start": {"dateTime": "2026-11-25T16:00:00Z"},
                "end": {"dateTime": "2026-11-25T17:00:00Z"},
            },
        )
        self.assertEqual(transparent.status, 200, transparent.text)
        busy = self.free_busy(token, ["primary"]).json()["calendars"]["primary"]["busy"]
        self.assertEqual(
            busy,
            [
                {"start": "2026-11-25T09:00:00Z", "end": "2026-11-25T10:00:00Z"},
                {"start": "2026-11-25T14:00:00Z", "end": "2026-11-25T14:30:00Z"},
            ],
        )
        # Bob asks for Alice's calendar by id: the same busy time.
        bob = self.free_busy(self.access_token("1//rt-bob"), ["alice@example.com"]).json()
        self.assertEqual(bob["calendars"]["alice@example.com"]["busy"], busy)
        cancelled = call(
            "PATCH",
            f"{self.base}/calendar/v3/calendars/primary/events/slot1400?sendUpdates=none",
            json_body={"status": "cancelled"},
            headers=bearer(token),
        )
        self.assertEqual(cancelled.json()["status"], "cancelled")
        busy = self.free_busy(token, ["primary"]).json()["calendars"]["primary"]["busy"]
        self.assertEqual(len(busy), 1)
        call(
            "POST",
            f"{self.base}/_peer/config",
            json_body={"fail_freebusy": {"alice@example.com": "backendError"}},
        )
        failed = self.free_busy(token, ["primary"]).json()["calendars"]["primary"]
        self.assertEqual(failed["errors"], [{"domain": "global", "reason": "backendError"}])

    def test_configured_backend_errors(self) -> None:
        token = self.access_token()
        typo = call("POST", f"{self.base}/_peer/config", json_body={"fail_nxt": 1})
        self.assertEqual(typo.status, 400)
        call("POST", f"{self.base}/_peer/config", json_body={"fail_next": 1, "error_status": 500})
        first = self.free_busy(token, ["primary"])
        self.assertEqual(first.status, 500)
        self.assertEqual(first.json()["error"]["errors"][0]["reason"], "backendError")
        self.assertEqual(self.free_busy(token, ["primary"]).status, 200)

    def test_state_file_survives_restart(self) -> None:
        state_file = os.path.join(self.tmp, "restart.json")
        first = Server(
            ["google_peer.py", "--port", "0", "--state-file", state_file], "listening on", self.tmp
        )
        try:
            base = first.url()
            call(
                "POST",
                f"{base}/_peer/seed",
                json_body={
                    "accounts": [{"email": "carol@example.com", "refresh_token": "1//rt-carol"}]
                },
            )
        finally:
            first.stop()
        second = Server(
            ["google_peer.py", "--port", "0", "--state-file", state_file], "listening on", self.tmp
        )
        try:
            reply = call(
                "POST",
                f"{second.url()}/token",
                form={"grant_type": "refresh_token", "refresh_token": "1//rt-carol", **CLIENT},
            )
            self.assertEqual(reply.status, 200, reply.text)
        finally:
            second.stop()


# ---------------------------------------------------------------------------


class GraphPeerTest(unittest.TestCase):
    tmp: str
    server: Server
    base: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="graph-peer-")
        cls.server = Server(["graph_peer.py", "--port", "0"], "listening on", cls.tmp)
        cls.base = cls.server.url()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        call("POST", f"{self.base}/_peer/reset")
        seeded = call(
            "POST",
            f"{self.base}/_peer/seed",
            json_body={
                "accounts": [
                    {
                        "email": "mia@contoso.example",
                        "refresh_token": "0.rt-mia",
                        "time_zone": "Europe/Amsterdam",
                    }
                ],
                "mailboxes": [f"room{i}@contoso.example" for i in range(25)],
                "busy": [
                    {
                        "mailbox": "mia@contoso.example",
                        "start": "2026-11-25T09:00:00Z",
                        "end": "2026-11-25T10:00:00Z",
                        "status": "oof",
                    }
                ],
            },
        )
        self.assertEqual(seeded.status, 200, seeded.text)
        reply = call(
            "POST",
            f"{self.base}/common/oauth2/v2.0/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": "0.rt-mia",
                "scope": "Calendars.ReadWrite offline_access",
                **CLIENT,
            },
        )
        self.assertEqual(reply.status, 200, reply.text)
        self.token = reply.json()["access_token"]

    def schedule(
        self,
        schedules: list[str],
        start: str,
        end: str,
        prefer: str | None = 'outlook.timezone="UTC"',
    ) -> Reply:
        headers = bearer(self.token)
        if prefer:
            headers["Prefer"] = prefer
        return call(
            "POST",
            f"{self.base}/v1.0/me/calendar/getSchedule",
            headers=headers,
            json_body={
                "schedules": schedules,
                "startTime": {"dateTime": start, "timeZone": "UTC"},
                "endTime": {"dateTime": end, "timeZone": "UTC"},
                "availabilityViewInterval": 60,
            },
        )

    def create(self, body: dict[str, Any]) -> Reply:
        return call(
            "POST", f"{self.base}/v1.0/me/events", json_body=body, headers=bearer(self.token)
        )

    def event_body(self, txn: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": "Intro call",
            "body": {"contentType": "HTML", "content": "<p>See you <b>soon</b></p>"},
            "start": {"dateTime": "2026-11-25T11:00:00", "timeZone": "Europe/Amsterdam"},
            "end": {"dateTime": "2026-11-25T11:30:00", "timeZone": "Europe/Amsterdam"},
            "attendees": [
                {
                    "emailAddress": {"address": "visitor@buyer.example", "name": "V"},
                    "type": "required",
                }
            ],
        }
        if txn:
            body["transactionId"] = txn
        return body

    def test_invalid_grant_after_revoke(self) -> None:
        call("POST", f"{self.base}/_peer/config", json_body={"revoke": "mia@contoso.example"})
        reply = call(
            "POST",
            f"{self.base}/common/oauth2/v2.0/token",
            form={"grant_type": "refresh_token", "refresh_token": "0.rt-mia", **CLIENT},
        )
        self.assertEqual(reply.status, 400)
        self.assertEqual(reply.json()["error"], "invalid_grant")
        self.assertTrue(reply.json()["error_description"].startswith("AADSTS50173:"))
        self.assertEqual(reply.json()["error_codes"], [50173])
        me = call("GET", f"{self.base}/v1.0/me", headers=bearer(self.token))
        self.assertEqual(me.status, 401)

    def test_bearer_required(self) -> None:
        reply = call("POST", f"{self.base}/v1.0/me/calendar/getSchedule", json_body={})
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.json()["error"]["code"], "InvalidAuthenticationToken")
        self.assertIn("WWW-Authenticate", reply.headers)
        me = call("GET", f"{self.base}/v1.0/me", headers=bearer(self.token))
        self.assertEqual(me.json()["mail"], "mia@contoso.example")

    def test_authorize_redirect(self) -> None:
        query = urlencode(
            {
                "client_id": CLIENT["client_id"],
                "response_type": "code",
                "redirect_uri": "http://127.0.0.1:8787/cb",
                "state": "s9",
                "scope": "offline_access Calendars.ReadWrite",
            }
        )
        reply = call("GET", f"{self.base}/organizations/oauth2/v2.0/authorize?{query}")
        self.assertEqual(reply.status, 302)
        params = parse_qs(urlsplit(reply.headers["Location"]).query)
        self.assertEqual(params["state"], ["s9"])
        tokens = call(
            "POST",
            f"{self.base}/organizations/oauth2/v2.0/token",
            form={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": "http://127.0.0.1:8787/cb",
                **CLIENT,
            },
        )
        self.assertEqual(tokens.status, 200, tokens.text)
        self.assertIn("refresh_token", tokens.json())

    def test_transaction_id_idempotency(self) -> None:
        first = self.create(self.event_body("booking-42"))
        self.assertEqual(first.status, 201, first.text)
        retry = self.create(self.event_body("booking-42"))
        self.assertEqual(retry.status, 201)
        self.assertEqual(retry.json()["id"], first.json()["id"])
        other = self.create(self.event_body(None))
        self.assertNotEqual(other.json()["id"], first.json()["id"])
        view = call(
            "GET",
            f"{self.base}/v1.0/me/calendarView?startDateTime=2026-11-25T00:00:00Z"
            "&endDateTime=2026-11-26T00:00:00Z",
            headers=bearer(self.token),
        ).json()
        ids = [e["id"] for e in view["value"]]
        self.assertEqual(ids.count(first.json()["id"]), 1)
        self.assertEqual(len(ids), 3)  # seeded oof block + two created events
        sent = call("GET", f"{self.base}/_peer/state").json()["sent_invitations"]
        self.assertEqual([s["event_id"] for s in sent], [first.json()["id"], other.json()["id"]])
        self.assertEqual(sent[0]["to"], "visitor@buyer.example")

    def test_get_schedule_limits(self) -> None:
        rooms = [f"room{i}@contoso.example" for i in range(21)]
        too_many = self.schedule(rooms, "2026-11-25T00:00:00", "2026-11-26T00:00:00")
        self.assertEqual(too_many.status, 400)
        self.assertEqual(too_many.json()["error"]["code"], "ErrorInvalidParameter")
        self.assertEqual(
            self.schedule(rooms[:20], "2026-11-25T00:00:00", "2026-11-26T00:00:00").status, 200
        )
        too_long = self.schedule(
            ["mia@contoso.example"], "2026-11-01T00:00:00", "2027-01-02T00:00:01"
        )
        self.assertEqual(too_long.status, 400)
        self.assertEqual(too_long.json()["error"]["code"], "ErrorInvalidParameter")
        self.assertEqual(
            self.schedule(
                ["mia@contoso.example"], "2026-11-01T00:00:00", "2027-01-02T00:00:00"
            ).status,
            200,
        )

    def test_get_schedule_reflects_created_events(self) -> None:
        self.assertEqual(self.create(self.event_body("t1")).status, 201)
        reply = self.schedule(
            ["mia@contoso.example", "ghost@contoso.example"],
            "2026-11-25T08:00:00",
            "2026-11-25T12:00:00",
        )
        self.assertEqual(reply.status, 200, reply.text)
        self.assertEqual(reply.headers["Preference-Applied"], 'outlook.timezone="UTC"')
        mia, ghost = reply.json()["value"]
        self.assertEqual(mia["availabilityView"], "0320")
        self.assertEqual(
            [
                (i["status"], i["start"]["dateTime"], i["end"]["dateTime"])
                for i in mia["scheduleItems"]
            ],
            [
                ("oof", "2026-11-25T09:00:00.0000000", "2026-11-25T10:00:00.0000000"),
                ("busy", "2026-11-25T10:00:00.0000000", "2026-11-25T10:30:00.0000000"),
            ],
        )
        self.assertEqual(mia["scheduleItems"][1]["start"]["timeZone"], "UTC")
        self.assertIn("error", ghost)
        local = self.schedule(
            ["mia@contoso.example"],
            "2026-11-25T08:00:00",
            "2026-11-25T12:00:00",
            prefer='outlook.timezone="Europe/Amsterdam"',
        )
        self.assertEqual(
            local.json()["value"][0]["scheduleItems"][1]["start"]["dateTime"],
            "2026-11-25T11:00:00.0000000",
        )
        call(
            "POST",
            f"{self.base}/_peer/config",
            json_body={"fail_schedules": ["mia@contoso.example"]},
        )
        failed = self.schedule(
            ["mia@contoso.example"], "2026-11-25T08:00:00", "2026-11-25T12:00:00"
        ).json()["value"][0]
        self.assertEqual(failed["error"]["responseCode"], "ErrorNoFreeBusyAccess")
        self.assertNotIn("scheduleItems", failed)

    def test_teams_meeting_and_patch_keep_the_join_url(self) -> None:
        body = {**self.event_body("teams-1"), "isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
        created = self.create(body)
        self.assertEqual(created.status, 201, created.text)
        ev = created.json()
        join = ev["onlineMeeting"]["joinUrl"]
        self.assertTrue(join.startswith("https://teams.microsoft.com/l/meetup-join/"), join)
        self.assertEqual((ev["isOnlineMeeting"], ev["onlineMeetingProvider"]), (True, "teamsForBusiness"))
        plain = self.create(self.event_body("teams-2")).json()
        self.assertIsNone(plain["onlineMeeting"])
        url = f"{self.base}/v1.0/me/events/{ev['id']}"
        moved = call(
            "PATCH",
            url,
            json_body={
                "start": {"dateTime": "2026-11-25T14:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-11-25T14:30:00", "timeZone": "UTC"},
            },
            headers={**bearer(self.token), "Prefer": 'outlook.timezone="UTC"'},
        )
        self.assertEqual(moved.status, 200, moved.text)
        self.assertEqual(moved.json()["onlineMeeting"]["joinUrl"], join)
        self.assertTrue(moved.json()["start"]["dateTime"].startswith("2026-11-25T14:00:00"))
        state = call("GET", f"{self.base}/_peer/state").json()
        self.assertEqual(state["sent_invitations"][0]["join_url"], join)
        self.assertEqual([(u["event_id"], u["join_url"]) for u in state["sent_updates"]], [(ev["id"], join)])
        off = call("PATCH", url, json_body={"isOnlineMeeting": False}, headers=bearer(self.token))
        self.assertEqual(off.status, 400)
        for bad in ({"isOnlineMeeting": "yes"}, {"isOnlineMeeting": True, "onlineMeetingProvider": "zoom"}):
            reply = self.create({**self.event_body(None), **bad})
            self.assertEqual(reply.status, 400, bad)

    def test_cancel_records_notice(self) -> None:
        created = self.create(self.event_body("c1")).json()
        url = f"{self.base}/v1.0/me/events/{created['id']}"
        self.assertEqual(call("GET", url, headers=bearer(self.token)).status, 200)
        cancel = call(
            "POST", f"{url}/cancel", json_body={"Comment": "Sorry"}, headers=bearer(self.token)
        )
        self.assertEqual((cancel.status, cancel.body), (202, b""))
        gone = call("GET", url, headers=bearer(self.token))
        self.assertEqual((gone.status, gone.json()["error"]["code"]), (404, "ErrorItemNotFound"))
        notices = call("GET", f"{self.base}/_peer/state").json()["sent_cancellations"]
        self.assertEqual(
            [(n["event_id"], n["to"], n["comment"]) for n in notices],
            [(created["id"], ["visitor@buyer.example"], "Sorry")],
        )

    def test_throttle_answers_429_with_retry_after(self) -> None:
        call("POST", f"{self.base}/_peer/config", json_body={"throttle_next": 1, "retry_after": 7})
        first = call("GET", f"{self.base}/v1.0/me", headers=bearer(self.token))
        self.assertEqual(first.status, 429)
        self.assertEqual(first.headers["Retry-After"], "7")
        self.assertIn("code", first.json()["error"])
        self.assertEqual(
            call("GET", f"{self.base}/v1.0/me", headers=bearer(self.token)).status, 200
        )


# ---------------------------------------------------------------------------

FREE_BUSY_QUERY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
    '<C:time-range start="20261125T000000Z" end="20261126T000000Z"/>'
    "</C:free-busy-query>"
)
CALENDAR_QUERY_EXPAND = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data>
      <C:expand start="20261125T000000Z" end="20261126T000000Z"/>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20261125T000000Z" end="20261126T000000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"""


class RadicalePeerTest(unittest.TestCase):
    tmp: str
    server: Server
    base: str
    control: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="radicale-peer-")
        seed = os.path.join(cls.tmp, "seed.json")
        with open(seed, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "events": [
                        {
                            "user": "agent1",
                            "uid": "seed-busy",
                            "start": "2026-11-25T09:00:00Z",
                            "end": "2026-11-25T10:00:00Z",
                            "summary": "Customer call",
                        },
                        {
                            "user": "agent1",
                            "uid": "seed-weekly",
                            "start": "2026-11-18T15:00:00Z",
                            "end": "2026-11-18T16:00:00Z",
                            "rrule": "FREQ=WEEKLY;COUNT=3",
                        },
                        {
                            "user": "agent1",
                            "uid": "seed-cancelled",
                            "start": "2026-11-25T12:00:00Z",
                            "end": "2026-11-25T13:00:00Z",
                            "status": "CANCELLED",
                        },
                        {
                            "user": "agent1",
                            "uid": "seed-transparent",
                            "start": "2026-11-25T13:00:00Z",
                            "end": "2026-11-25T14:00:00Z",
                            "transp": "TRANSPARENT",
                        },
                    ]
                },
                fh,
            )
        cls.server = Server(
            [
                "radicale_peer.py",
                "--port",
                "0",
                "--storage",
                os.path.join(cls.tmp, "store"),
                "--user",
                "agent1:secret1",
                "--user",
                "agent2:secret2",
                "--seed",
                seed,
                "--control-port",
                "0",
            ],
            "listening on",
            cls.tmp,
        )
        cls.base = cls.server.url()
        cls.control = cls.server.url("control on")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dav(
        self,
        method: str,
        path: str,
        body: str = "",
        user: str = "agent1",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        auth = base64.b64encode(f"{user}:secret{user[-1]}".encode()).decode()
        hdrs = {"Authorization": f"Basic {auth}", **(headers or {})}
        return call(
            method, f"{self.base}{path}", data=body.encode() if body else None, headers=hdrs
        )

    def test_free_busy_report_sees_seeded_event(self) -> None:
        reply = self.dav(
            "REPORT",
            "/agent1/calendar/",
            FREE_BUSY_QUERY,
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        self.assertEqual(reply.status, 200, reply.text)
        lines = [ln for ln in reply.text.splitlines() if ln.startswith("FREEBUSY")]
        self.assertIn("FREEBUSY;FBTYPE=BUSY:20261125T090000Z/20261125T100000Z", lines)
        self.assertIn("FREEBUSY;FBTYPE=BUSY:20261125T150000Z/20261125T160000Z", lines)
        # What the worker must know: CANCELLED shows up as FBTYPE=FREE, TRANSPARENT not at all.
        self.assertIn("FREEBUSY;FBTYPE=FREE:20261125T120000Z/20261125T130000Z", lines)
        self.assertFalse(any("20261125T130000Z/" in ln for ln in lines), lines)
        other = self.dav(
            "REPORT",
            "/agent2/calendar/",
            FREE_BUSY_QUERY,
            user="agent2",
            headers={"Depth": "1", "Content-Type": "application/xml"},
        )
        self.assertNotIn("FBTYPE=BUSY", other.text)

    def test_calendar_query_expand_returns_instances(self) -> None:
        reply = self.dav(
            "REPORT",
            "/agent1/calendar/",
            CALENDAR_QUERY_EXPAND,
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        self.assertEqual(reply.status, 207, reply.text)
        self.assertIn("RECURRENCE-ID:20261125T150000Z", reply.text)
        self.assertIn("UID:seed-busy", reply.text)
        self.assertIn("STATUS:CANCELLED", reply.text)  # the client filters, not the server

    def test_put_if_none_match_gives_412_on_existing(self) -> None:
        ics = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//dynchat//test//EN\r\n"
            "BEGIN:VEVENT\r\nUID:booking-77\r\nDTSTAMP:20261125T080000Z\r\n"
            "DTSTART:20261125T160000Z\r\nDTEND:20261125T163000Z\r\nSUMMARY:Booked\r\n"
            "ATTENDEE;SCHEDULE-AGENT=CLIENT;RSVP=TRUE:mailto:visitor@buyer.example\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        headers = {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}
        first = self.dav("PUT", "/agent2/calendar/booking-77.ics", ics, "agent2", headers)
        self.assertEqual(first.status, 201, first.text)
        retry = self.dav("PUT", "/agent2/calendar/booking-77.ics", ics, "agent2", headers)
        self.assertEqual(retry.status, 412)
        state = call("GET", f"{self.control}/_peer/state").json()
        uids = [e["uid"] for e in state["calendars"]["agent2"]]
        self.assertEqual(uids, ["booking-77"])
        self.assertEqual(
            self.dav("PUT", "/agent1/calendar/x.ics", ics, "agent2", headers).status, 403
        )

    def test_wrong_password_is_401(self) -> None:
        reply = call("PROPFIND", f"{self.base}/agent1/calendar/", headers={"Depth": "0"})
        self.assertEqual(reply.status, 401)


# ---------------------------------------------------------------------------


class MailCatcherTest(unittest.TestCase):
    tmp: str
    server: Server
    base: str
    smtp_port: int

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="mail-catcher-")
        cls.server = Server(
            ["mail_catcher.py", "--smtp-port", "0", "--http-port", "0", "--max-size", "20000"],
            "listening on",
            cls.tmp,
        )
        cls.base = cls.server.url()
        line = cls.server.lines[-1]
        cls.smtp_port = int(line.rsplit(":", 1)[1].rstrip(")"))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self) -> None:
        self.assertEqual(call("POST", f"{self.base}/_peer/reset").status, 200)

    def smtp(self) -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=HTTP_TIMEOUT_S)
        client.ehlo("worker.test")
        return client

    def test_keeps_message_with_calendar_part(self) -> None:
        msg = EmailMessage()
        msg["Subject"] = "Invitation: Intro call <Wed 25 Nov>"
        msg["From"] = "Alice <alice@vendor.example>"
        msg["To"] = "visitor@buyer.example"
        msg.set_content("See you soon.")
        msg.add_alternative("<p>See you <b>soon</b>.</p>", subtype="html")
        ics = (
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:booking-1\r\n"
            "SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        msg.add_attachment(
            ics, subtype="calendar", params={"method": "REQUEST"}, filename="invite.ics"
        )
        with self.smtp() as client:
            self.assertIn(b"8BITMIME", client.ehlo_resp or b"")
            refused = client.send_message(msg, mail_options=["BODY=8BITMIME"])
        self.assertEqual(refused, {})
        state = call("GET", f"{self.base}/_peer/state").json()
        self.assertEqual(len(state["messages"]), 1)
        kept = state["messages"][0]
        self.assertEqual(kept["mail_from"], "alice@vendor.example")
        self.assertEqual(kept["rcpt_tos"], ["visitor@buyer.example"])
        self.assertEqual(kept["subject"], "Invitation: Intro call <Wed 25 Nov>")
        calendar = [p for p in kept["parts"] if p["content_type"] == "text/calendar"]
        self.assertEqual(len(calendar), 1)
        self.assertEqual(calendar[0]["params"]["method"], "REQUEST")
        self.assertIn("UID:booking-1", calendar[0]["text"])
        self.assertIn("METHOD:REQUEST", kept["raw"])
        page = call("GET", f"{self.base}/").text
        self.assertIn("Intro call &lt;Wed 25 Nov&gt;", page)
        self.assertNotIn("<Wed 25 Nov>", page)

    def test_checks_the_smtp_dialogue(self) -> None:
        with self.smtp() as client:
            self.assertEqual(client.docmd("RCPT", "TO:<a@buyer.example>")[0], 503)
            self.assertEqual(client.docmd("MAIL", "FROM:<x@vendor.example> SIZE=50000")[0], 552)
            self.assertEqual(
                client.docmd("MAIL", "FROM:<x@vendor.example> BODY=BINARYMIME")[0], 501
            )
            self.assertEqual(client.docmd("DATA")[0], 503)
        big = b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 400
        with self.smtp() as client:
            # No SIZE declared: the limit is enforced when the data arrives.
            self.assertEqual(client.mail("x@vendor.example")[0], 250)
            self.assertEqual(client.rcpt("a@buyer.example")[0], 250)
            self.assertEqual(client.data(big)[0], 552)
        self.assertEqual(call("GET", f"{self.base}/_peer/state").json()["messages"], [])

    def test_configured_rejections(self) -> None:
        call(
            "POST",
            f"{self.base}/_peer/config",
            json_body={"reject_rcpt": ["gone@buyer.example"], "fail_next_data": 1},
        )
        rcpts = ["gone@buyer.example", "ok@buyer.example"]
        with self.smtp() as client:
            with self.assertRaises(smtplib.SMTPDataError) as ctx:
                client.sendmail("x@vendor.example", rcpts, b"Subject: t\r\n\r\nhi\r\n")
            self.assertEqual(ctx.exception.smtp_code, 451)
            refused = client.sendmail("x@vendor.example", rcpts, b"Subject: t\r\n\r\nhi\r\n")
        self.assertEqual(list(refused), ["gone@buyer.example"])
        self.assertEqual(refused["gone@buyer.example"][0], 550)
        kept = call("GET", f"{self.base}/_peer/state").json()["messages"]
        self.assertEqual([m["rcpt_tos"] for m in kept], [["ok@buyer.example"]])


if __name__ == "__main__":
    unittest.main()
