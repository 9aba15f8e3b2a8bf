"""Behaviour tests for the Marketo REST peer (tests/peers/marketo_peer.py).

Each test talks HTTP to a real peer process started on a free port. Run from the repo root:
    python3 -m unittest discover -s tests/peers -p 'test_marketo_peer.py'
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "marketo_peer.py")
CLIENT_ID = "dynchat"
CLIENT_SECRET = "secret"
COOKIE = "id:123-ABC-456&token:_mch-localhost-1764000000000-12345"


class PeerProcess:
    """The peer as a subprocess on a free port; stop() ends it."""

    def __init__(self, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, PEER, "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout = self.proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], 15)
        line = stdout.readline() if ready else ""
        if "listening on http://127.0.0.1:" not in line:
            self.stop()
            raise RuntimeError(f"peer did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Terminate the process; returns what it wrote to stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return err


class Client:
    """Minimal urllib client for one peer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
        auth: bool = True,
    ) -> tuple[int, dict[str, str], Any]:
        data = raw_body
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if auth and self.token:
            all_headers.setdefault("Authorization", f"Bearer {self.token}")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, resp_headers, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            status, resp_headers, payload = err.code, dict(err.headers), err.read()
        if "json" in resp_headers.get("Content-Type", ""):
            return status, resp_headers, json.loads(payload)
        return status, resp_headers, payload

    def token_call(self, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> tuple[int, Any]:
        query = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        )
        status, _, payload = self.request("GET", f"/identity/oauth/token?{query}", auth=False)
        return status, payload

    def login(self) -> str:
        status, payload = self.token_call()
        assert status == 200, payload
        self.token = payload["access_token"]
        return self.token

    def rest(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """A REST call expected to answer HTTP 200 JSON; returns the envelope."""
        status, _, payload = self.request(method, path, body, **kw)
        assert status == 200, (status, payload)
        return payload

    def peer(self, method: str, path: str, body: Any = None) -> Any:
        status, _, payload = self.request(method, path, body if body is not None else {}, auth=False)
        assert status == 200, (status, payload)
        return payload

    def state(self) -> Any:
        status, _, payload = self.request("GET", "/_peer/state", auth=False)
        assert status == 200
        return payload

    def upsert(self, records: list[dict[str, Any]], **extra: Any) -> Any:
        return self.rest("POST", "/rest/v1/leads.json", {"input": records, **extra})


def error_code(envelope: Any) -> str | None:
    """The call-level error code of a Marketo envelope, or None on success."""
    if envelope.get("success"):
        return None
    return str(envelope["errors"][0]["code"])


class MarketoPeerTest(unittest.TestCase):
    """Shares one peer; every test starts from /_peer/reset (data, counters, config)."""

    peer_process: PeerProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.peer_process = PeerProcess("--window-seconds", "2", "--window-calls", "100", "--slow-ms", "1500")

    @classmethod
    def tearDownClass(cls) -> None:
        err = cls.peer_process.stop()
        if "Traceback" in err:
            raise AssertionError(f"peer raised:\n{err}")

    def setUp(self) -> None:
        self.client = Client(self.peer_process.base)
        self.client.peer("POST", "/_peer/reset")
        self.client.login()

    def tearDown(self) -> None:
        self.assertEqual(self.client.state()["counters"]["internal_errors"], 0)

    def configure(self, **settings: Any) -> None:
        self.client.peer("POST", "/_peer/config", settings)

    # ---- identity -------------------------------------------------------------------------

    def test_token_is_reused_until_expiry_and_counts_down(self) -> None:
        status, first = self.client.token_call()
        self.assertEqual(status, 200)
        self.assertEqual(first["token_type"], "bearer")
        self.assertLessEqual(first["expires_in"], 3599)
        time.sleep(1.1)
        status, second = self.client.token_call()
        self.assertEqual(second["access_token"], first["access_token"])
        self.assertLess(second["expires_in"], first["expires_in"])

    def test_token_by_post_form(self) -> None:
        form = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        ).encode()
        status, _, payload = self.client.request(
            "POST", "/identity/oauth/token", raw_body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=False,
        )  # fmt: skip
        self.assertEqual(status, 200)
        self.assertEqual(payload["access_token"], self.client.token)

    def test_bad_credentials_are_http_401(self) -> None:
        status, payload = self.client.token_call(secret="wrong")
        self.assertEqual(status, 401)
        self.assertEqual(payload, {"error": "unauthorized", "error_description": "Bad client credentials"})

    def test_bearer_header_only(self) -> None:
        path = "/rest/v1/leads.json?filterType=email&filterValues=a%40b.com"
        self.assertIsNone(error_code(self.client.rest("GET", path)))
        token = self.client.token
        self.client.token = ""
        self.assertEqual(error_code(self.client.rest("GET", path)), "601")  # no header
        self.assertEqual(error_code(self.client.rest("GET", f"{path}&access_token={token}")), "601")
        both = self.client.rest(
            "GET", f"{path}&access_token={token}", headers={"Authorization": f"Bearer {token}"}
        )
        self.assertEqual(error_code(both), "601")  # the query parameter is rejected outright
        self.assertEqual(
            error_code(self.client.rest("GET", path, headers={"Authorization": "Bearer nope"})), "601"
        )
        self.assertEqual(self.client.state()["counters"]["access_token_in_query"], 2)

    def test_expired_token_gives_602_then_a_new_token_works(self) -> None:
        old = self.client.token
        self.configure(expire_tokens=True)
        self.assertEqual(error_code(self.client.upsert([{"email": "x@example.com"}])), "602")
        self.assertEqual(self.client.state()["leads"], [])
        self.assertNotEqual(self.client.login(), old)
        self.assertIsNone(error_code(self.client.upsert([{"email": "x@example.com"}])))

    def test_short_token_ttl_expires(self) -> None:
        self.configure(token_ttl=1, expire_tokens=True)
        self.client.login()
        time.sleep(1.2)
        self.assertEqual(error_code(self.client.rest("GET", "/rest/v1/leads/describe2.json")), "602")

    # ---- transport rules --------------------------------------------------------------------

    def test_wrong_content_type_612_and_invalid_json_609(self) -> None:
        raw = json.dumps({"input": [{"email": "a@example.com"}]}).encode()
        text = self.client.rest(
            "POST", "/rest/v1/leads.json", raw_body=raw, headers={"Content-Type": "text/plain"}
        )
        self.assertEqual(error_code(text), "612")
        bad = self.client.rest(
            "POST", "/rest/v1/leads.json", raw_body=b"{nope", headers={"Content-Type": "application/json"}
        )
        self.assertEqual(error_code(bad), "609")
        self.assertEqual(self.client.state()["leads"], [])

    def test_body_over_1mb_is_413_and_the_connection_stays_usable(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.peer_process.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.client.token}", "Content-Type": "application/json"}
        big = json.dumps({"input": [{"email": "a@example.com", "chatNotes": "x" * (1024 * 1024)}]})
        conn.request("POST", "/rest/v1/leads.json", body=big, headers=headers)
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 413)
        conn.request("GET", "/rest/v1/leads/describe2.json", headers=headers)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertTrue(json.loads(resp.read())["success"])
        conn.close()
        self.assertEqual(self.client.state()["leads"], [])

    def test_uri_over_8kb_is_414(self) -> None:
        emails = ",".join(f"person{i}@example.com" for i in range(500))
        status, _, _ = self.client.request(
            "GET", f"/rest/v1/leads.json?filterType=email&filterValues={emails}"
        )
        self.assertEqual(status, 414)

    def test_post_with_method_get_escape_hatch(self) -> None:
        self.client.upsert([{"email": "long@example.com"}])
        form = urllib.parse.urlencode({"filterType": "email", "filterValues": "long@example.com"}).encode()
        answer = self.client.rest(
            "POST", "/rest/v1/leads.json?_method=GET", raw_body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        self.assertEqual([lead["email"] for lead in answer["result"]], ["long@example.com"])

    def test_unknown_resource_610_and_wrong_method_605(self) -> None:
        self.assertEqual(error_code(self.client.rest("GET", "/rest/v1/nothing.json")), "610")
        self.assertEqual(error_code(self.client.rest("GET", "/rest/v1/activities/external.json")), "605")

    # ---- limits -------------------------------------------------------------------------------

    def test_101st_call_in_the_window_gets_606_with_http_200(self) -> None:
        # A long window so a slow machine cannot let calls slide out of it mid-test.
        self.configure(window_seconds=30)
        conn = http.client.HTTPConnection("127.0.0.1", self.peer_process.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.client.token}"}
        for i in range(100):
            conn.request("GET", "/rest/v1/leads/describe2.json", headers=headers)
            resp = conn.getresponse()
            self.assertTrue(json.loads(resp.read())["success"], f"call {i + 1}")
        for _ in range(3):  # identity calls are not counted against the rate
            self.assertEqual(self.client.token_call()[0], 200)
        conn.request("GET", "/rest/v1/leads/describe2.json", headers=headers)
        resp = conn.getresponse()
        envelope = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertFalse(envelope["success"])
        self.assertEqual(
            envelope["errors"],
            [{"code": "606", "message": "Max rate limit '100' exceeded with in '30' secs"}],
        )
        counters = self.client.state()["counters"]
        self.assertEqual(counters["count_606"], 1)
        self.assertEqual(counters["calls_per_window_max"], 100)
        # The window slides: once it is shorter than the calls' age they are forgotten.
        self.configure(window_seconds=1)
        time.sleep(1.2)
        self.assertIsNone(error_code(self.client.rest("GET", "/rest/v1/leads/describe2.json")))

    def test_eleven_concurrent_slow_calls_get_one_615(self) -> None:
        self.configure(fault_rate=1.0, fault_kinds=["slow"], slow_ms=3000, window_calls=1000)
        barrier = threading.Barrier(11, timeout=20)
        outcomes: list[Any] = []
        lock = threading.Lock()

        def one_call() -> None:
            client = Client(self.peer_process.base)
            client.token = self.client.token
            barrier.wait()
            envelope = client.rest("GET", "/rest/v1/leads/describe2.json")
            with lock:
                outcomes.append(error_code(envelope))

        threads = [threading.Thread(target=one_call) for _ in range(11)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(outcomes), 11)
        self.assertEqual(outcomes.count("615"), 1, outcomes)
        self.assertEqual(outcomes.count(None), 10, outcomes)
        counters = self.client.state()["counters"]
        self.assertEqual(counters["count_615"], 1)
        self.assertEqual(counters["max_concurrency"], 10)

    def test_daily_quota_607(self) -> None:
        self.configure(daily_quota=3)
        codes = [error_code(self.client.rest("GET", "/rest/v1/leads/describe2.json")) for _ in range(4)]
        self.assertEqual(codes, [None, None, None, "607"])
        self.assertEqual(self.client.state()["counters"]["count_607"], 1)

    # ---- leads ----------------------------------------------------------------------------------

    def test_301_records_are_rejected_and_300_accepted(self) -> None:
        too_many = self.client.upsert([{"email": f"p{i}@example.com"} for i in range(301)])
        self.assertEqual(error_code(too_many), "1003")
        self.assertEqual(self.client.state()["leads"], [])
        ok = self.client.upsert([{"email": f"p{i}@example.com"} for i in range(300)])
        self.assertEqual([r["status"] for r in ok["result"]], ["created"] * 300)
        counters = self.client.state()["counters"]
        self.assertEqual(counters["leads_records_histogram"], {"301": 1, "300": 1})

    def test_per_record_errors_do_not_stop_the_batch(self) -> None:
        answer = self.client.upsert(
            [
                {"email": "ok1@example.com", "firstName": "Ok"},
                {"email": "not-an-email", "firstName": "Bad"},
                {"firstName": "No email"},
                {"email": "field@example.com", "favouriteColour": "blue"},
                {"email": "count@example.com", "numberOfEmployees": "lots"},
                {"email": "ok2@example.com", "numberOfEmployees": "250", "chatInterest": "pricing"},
            ]
        )
        self.assertTrue(answer["success"])
        result = answer["result"]
        self.assertEqual(
            [r["status"] for r in result], ["created", "skipped", "skipped", "skipped", "skipped", "created"]
        )
        self.assertEqual(
            [r["reasons"][0]["code"] for r in result if r["status"] == "skipped"],
            ["1003", "1003", "1006", "1003"],
        )
        leads = {lead["email"]: lead for lead in self.client.state()["leads"]}
        self.assertEqual(sorted(leads), ["ok1@example.com", "ok2@example.com"])
        self.assertEqual(leads["ok2@example.com"]["numberOfEmployees"], 250)

    def test_dedupe_on_email_is_case_insensitive(self) -> None:
        first = self.client.upsert([{"email": "Jane.Doe@Example.com", "firstName": "Jane"}])["result"][0]
        second = self.client.upsert([{"email": "jane.doe@example.COM", "company": "Acme"}])["result"][0]
        self.assertEqual(first["status"], "created")
        self.assertEqual(second, {"id": first["id"], "status": "updated"})
        same_batch = self.client.upsert([{"email": "x@example.com"}, {"email": "X@EXAMPLE.com"}])["result"]
        self.assertEqual([r["status"] for r in same_batch], ["created", "updated"])
        state = self.client.state()
        self.assertEqual(len(state["leads"]), 2)
        self.assertEqual(state["lead_writes"]["jane.doe@example.com"], {"created": 1, "updated": 1})
        jane = next(lead for lead in state["leads"] if lead["id"] == first["id"])
        self.assertEqual((jane["firstName"], jane["company"]), ("Jane", "Acme"))

    def test_create_only_and_update_only(self) -> None:
        self.client.upsert([{"email": "a@example.com"}])
        create = self.client.upsert([{"email": "A@example.com"}], action="createOnly")["result"][0]
        update = self.client.upsert([{"email": "new@example.com"}], action="updateOnly")["result"][0]
        self.assertEqual(create["reasons"][0]["code"], "1005")
        self.assertEqual(update["reasons"][0]["code"], "1004")
        self.assertEqual(len(self.client.state()["leads"]), 1)

    def test_get_leads_by_email_and_id_with_fields(self) -> None:
        lead_id = self.client.upsert([{"email": "a@example.com", "company": "Acme", "industry": "Software"}])[
            "result"
        ][0]["id"]
        by_email = self.client.rest(
            "GET", "/rest/v1/leads.json?filterType=email&filterValues=A%40EXAMPLE.com&fields=company,industry"
        )
        self.assertEqual(by_email["result"], [{"id": lead_id, "company": "Acme", "industry": "Software"}])
        by_id = self.client.rest("GET", f"/rest/v1/leads.json?filterType=id&filterValues={lead_id},999")
        self.assertEqual([lead["email"] for lead in by_id["result"]], ["a@example.com"])
        self.assertIn("createdAt", by_id["result"][0])
        unknown_field = self.client.rest(
            "GET", "/rest/v1/leads.json?filterType=id&filterValues=1&fields=shoeSize"
        )
        self.assertEqual(error_code(unknown_field), "1006")
        none = self.client.rest(
            "GET", "/rest/v1/leads.json?filterType=email&filterValues=nobody%40example.com"
        )
        self.assertEqual(none["result"], [])

    def test_cookie_association_and_lookup(self) -> None:
        lead_id = self.client.upsert([{"email": "c@example.com", "firstName": "Cee"}])["result"][0]["id"]
        encoded = urllib.parse.quote(COOKIE, safe="")
        lookup = f"/rest/v1/leads.json?filterType=cookies&filterValues={encoded}&fields=email,firstName"
        self.assertEqual(self.client.rest("GET", lookup)["result"], [])  # unknown cookie: empty result
        answer = self.client.rest("POST", f"/rest/v1/leads/{lead_id}/associate.json?cookie={encoded}")
        self.assertIsNone(error_code(answer))
        self.assertEqual(
            self.client.rest("GET", lookup)["result"],
            [{"id": lead_id, "email": "c@example.com", "firstName": "Cee"}],
        )
        # An unencoded '&' splits the cookie: Marketo then sees only "id:..." and rejects it.
        unencoded = self.client.rest("POST", f"/rest/v1/leads/{lead_id}/associate.json?cookie={COOKIE}")
        self.assertEqual(error_code(unencoded), "1012")
        missing_lead = self.client.rest("POST", f"/rest/v1/leads/9999/associate.json?cookie={encoded}")
        self.assertEqual(error_code(missing_lead), "1004")

    def test_describe2_and_describe(self) -> None:
        fields = self.client.rest("GET", "/rest/v1/leads/describe2.json")["result"][0]["fields"]
        by_name = {f["name"]: f for f in fields}
        for name in ("email", "firstName", "lastName", "company", "phone", "title", "industry",
                     "numberOfEmployees", "country", "leadSource", "chatInterest", "chatNotes"):  # fmt: skip
            self.assertIn(name, by_name)
        self.assertEqual(by_name["email"]["dataType"], "email")
        self.assertFalse(by_name["createdAt"]["updateable"])
        old = self.client.rest("GET", "/rest/v1/leads/describe.json")["result"]
        self.assertIn({"name": "email", "readOnly": False}, [f["rest"] for f in old])

    # ---- programs, campaigns, companies -----------------------------------------------------------

    def test_program_member_status(self) -> None:
        lead_id = self.client.upsert([{"email": "p@example.com"}])["result"][0]["id"]
        path = "/rest/v1/programs/1001/members/status.json"
        first = self.client.rest(
            "POST", path, {"statusName": "Engaged", "input": [{"leadId": lead_id}, {"leadId": 424242}]}
        )
        self.assertEqual(first["result"][0], {"seq": 0, "leadId": lead_id, "status": "created"})
        self.assertEqual(first["result"][1]["reasons"][0]["code"], "1004")
        second = self.client.rest(
            "POST", path, {"statusName": "Meeting Booked", "input": [{"leadId": lead_id}]}
        )
        self.assertEqual(second["result"][0]["status"], "updated")
        self.assertEqual(
            error_code(
                self.client.rest("POST", path, {"statusName": "Nope", "input": [{"leadId": lead_id}]})
            ),
            "1025",
        )
        unknown = self.client.rest(
            "POST",
            "/rest/v1/programs/7/members/status.json",
            {"statusName": "Member", "input": [{"leadId": lead_id}]},
        )
        self.assertEqual(error_code(unknown), "1013")
        members = self.client.state()["program_members"]["1001"]
        self.assertEqual(members[str(lead_id)]["status"], "Meeting Booked")

    def test_campaign_trigger(self) -> None:
        lead_id = self.client.upsert([{"email": "t@example.com"}])["result"][0]["id"]
        body = {
            "input": {"leads": [{"id": lead_id}], "tokens": [{"name": "{{my.dialogue}}", "value": "pricing"}]}
        }
        self.assertEqual(
            self.client.rest("POST", "/rest/v1/campaigns/2001/trigger.json", body)["result"], [{"id": 2001}]
        )
        too_many = {"input": {"leads": [{"id": lead_id}] * 101}}
        self.assertEqual(
            error_code(self.client.rest("POST", "/rest/v1/campaigns/2001/trigger.json", too_many)), "1003"
        )
        self.assertEqual(
            error_code(self.client.rest("POST", "/rest/v1/campaigns/2003/trigger.json", body)), "1003"
        )
        self.assertEqual(
            error_code(self.client.rest("POST", "/rest/v1/campaigns/9/trigger.json", body)), "1013"
        )
        triggers = self.client.state()["campaign_triggers"]
        self.assertEqual(len(triggers), 1)
        self.assertEqual(triggers[0]["leadIds"], [lead_id])

    def test_seeded_companies(self) -> None:
        self.client.peer("POST", "/_peer/seed", {"companies": [
            {"company": "Acme Corp", "externalCompanyId": "acme", "industry": "Manufacturing", "numberOfEmployees": 5000},
            {"company": "Globex", "industry": "Energy"},
        ]})  # fmt: skip
        found = self.client.rest(
            "GET",
            "/rest/v1/companies.json?filterType=company&filterValues=acme%20corp&fields=company,industry,numberOfEmployees",
        )
        self.assertEqual(
            found["result"],
            [
                {
                    "seq": 0,
                    "id": 1,
                    "company": "Acme Corp",
                    "industry": "Manufacturing",
                    "numberOfEmployees": 5000,
                }
            ],
        )
        by_external = self.client.rest(
            "GET", "/rest/v1/companies.json?filterType=externalCompanyId&filterValues=acme,none"
        )
        self.assertEqual([c["company"] for c in by_external["result"]], ["Acme Corp"])
        bad = self.client.rest("GET", "/rest/v1/companies.json?filterType=industry&filterValues=Energy")
        self.assertEqual(error_code(bad), "1011")

    # ---- custom activities ------------------------------------------------------------------------

    def test_custom_activity_types_and_activities(self) -> None:
        lead_id = self.client.upsert([{"email": "act@example.com"}])["result"][0]["id"]
        created = self.client.rest("POST", "/rest/v1/activities/external/type.json", {
            "apiName": "dynchatEngaged", "name": "Engaged in chat", "triggerName": "Engages in chat",
            "filterName": "Engaged in chat",
            "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue", "dataType": "string"},
        })["result"][0]  # fmt: skip
        self.assertEqual(created["status"], "draft")
        type_id = created["id"]
        duplicate = self.client.rest("POST", "/rest/v1/activities/external/type.json", {
            "apiName": "dynchatEngaged", "name": "Other", "triggerName": "t", "filterName": "f",
            "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue", "dataType": "string"},
        })  # fmt: skip
        self.assertEqual(error_code(duplicate), "1017")
        record = {"leadId": lead_id, "activityDate": "2027-03-01T09:00:00Z", "activityTypeId": type_id,
                  "primaryAttributeValue": "pricing", "attributes": [{"apiName": "outcome", "value": "completed"}]}  # fmt: skip
        draft = self.client.rest("POST", "/rest/v1/activities/external.json", {"input": [record]})["result"][
            0
        ]
        self.assertEqual(draft["status"], "skipped")  # a draft type takes no activities
        self.client.rest("POST", "/rest/v1/activities/external/type/dynchatEngaged/attributes/create.json",
                         {"attributes": [{"apiName": "outcome", "name": "Outcome", "dataType": "string"}]})  # fmt: skip
        approved = self.client.rest("POST", "/rest/v1/activities/external/type/dynchatEngaged/approve.json")
        self.assertEqual(approved["result"][0]["status"], "approved")
        again = self.client.rest("POST", "/rest/v1/activities/external/type/dynchatEngaged/approve.json")
        self.assertEqual(error_code(again), "709")
        undefined = {**record, "attributes": [{"apiName": "transcript", "value": "..."}]}
        no_type = {**record, "activityTypeId": 123456}
        added = self.client.rest(
            "POST", "/rest/v1/activities/external.json", {"input": [record, undefined, no_type]}
        )["result"]
        self.assertEqual(added[0]["status"], "added")
        self.assertEqual([added[1]["reasons"][0]["code"], added[2]["reasons"][0]["code"]], ["1006", "1013"])
        too_many = self.client.rest("POST", "/rest/v1/activities/external.json", {"input": [record] * 301})
        self.assertEqual(error_code(too_many), "1003")
        types = self.client.rest("GET", "/rest/v1/activities/external/types.json")["result"]
        self.assertEqual([(t["apiName"], t["status"]) for t in types], [("dynchatEngaged", "approved")])
        activities = self.client.state()["activities"]
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities[0]["attributes"], [{"name": "outcome", "value": "completed"}])

    # ---- lead changes -------------------------------------------------------------------------------

    def test_lead_changes_paging(self) -> None:
        seeded = self.client.peer("POST", "/_peer/seed", {"leads": [
            {"email": "s1@example.com", "firstName": "One", "cookie": COOKIE},
            {"email": "s2@example.com", "firstName": "Two"},
        ]})  # fmt: skip
        self.assertEqual([r["status"] for r in seeded["leads"]], ["created", "created"])
        self.client.upsert([{"email": "s1@example.com", "firstName": "Uno", "title": "CTO"}])
        self.client.upsert([{"email": "s2@example.com", "industry": "Retail"}])  # not a requested field
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        token = self.client.rest("GET", f"/rest/v1/activities/pagingtoken.json?sinceDatetime={since}")[
            "nextPageToken"
        ]
        seen: list[tuple[int, int, list[str]]] = []
        more_flags = []
        for _ in range(10):
            page = self.client.rest(
                "GET",
                f"/rest/v1/activities/leadchanges.json?nextPageToken={token}&fields=firstName,title&batchSize=2",
            )
            for activity in page.get("result", []):
                seen.append(
                    (activity["leadId"], activity["activityTypeId"], [f["name"] for f in activity["fields"]])
                )
            more_flags.append(page["moreResult"])
            token = page["nextPageToken"]
            if not page["moreResult"]:
                break
        self.assertEqual(more_flags, [True, False])
        s1, s2 = (r["id"] for r in seeded["leads"])
        self.assertEqual(seen, [(s1, 12, []), (s2, 12, []), (s1, 13, ["firstName"]), (s1, 13, ["title"])])
        empty = self.client.rest(
            "GET", f"/rest/v1/activities/leadchanges.json?nextPageToken={token}&fields=firstName"
        )
        self.assertNotIn("result", empty)  # Marketo omits `result` on an empty page
        self.assertFalse(empty["moreResult"])
        cookie = urllib.parse.quote(COOKIE, safe="")
        by_cookie = self.client.rest("GET", f"/rest/v1/leads.json?filterType=cookies&filterValues={cookie}")
        self.assertEqual([lead["id"] for lead in by_cookie["result"]], [s1])

    # ---- faults ----------------------------------------------------------------------------------

    def test_faults_do_not_apply_writes(self) -> None:
        self.configure(fault_rate=1.0, fault_kinds=["604", "608", "611", "502"], window_calls=1000)
        seen: set[str | None] = set()
        for i in range(24):
            status, headers, payload = self.client.request(
                "POST", "/rest/v1/leads.json", {"input": [{"email": f"f{i}@example.com"}]}
            )
            if status == 502:
                self.assertIn("text/html", headers["Content-Type"])
                seen.add("502")
            else:
                self.assertEqual(status, 200)
                seen.add(error_code(payload))
        self.assertEqual(seen, {"604", "608", "611", "502"})
        state = self.client.state()
        self.assertEqual(state["leads"], [])
        self.assertEqual(sum(state["counters"]["faults"].values()), 24)
        self.assertEqual(state["counters"]["calls_counted"], 0)
        self.configure(fault_rate=1.0, fault_kinds=["slow"], slow_ms=100)
        self.assertEqual(
            self.client.upsert([{"email": "slow@example.com"}])["result"][0]["status"], "created"
        )
        self.assertEqual([lead["email"] for lead in self.client.state()["leads"]], ["slow@example.com"])

    def test_faults_follow_the_seed(self) -> None:
        def run() -> list[str | None]:
            self.client.peer("POST", "/_peer/reset")
            self.configure(fault_rate=0.4, fault_kinds=["604", "608", "611"], fault_seed=7)
            return [error_code(self.client.rest("GET", "/rest/v1/leads/describe2.json")) for _ in range(20)]

        first, second = run(), run()
        self.assertEqual(first, second)
        self.assertTrue(
            any(code is None for code in first) and any(code is not None for code in first), first
        )

    # ---- robustness ------------------------------------------------------------------------------

    def test_keep_alive_under_concurrent_load(self) -> None:
        # Ten clients, each with one call outstanding: exactly at the limit, never a 615.
        self.configure(window_calls=100000)
        failures: list[Any] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.peer_process.port, timeout=30)
            headers = {"Authorization": f"Bearer {self.client.token}", "Content-Type": "application/json"}
            for i in range(40):
                body = json.dumps({"input": [{"email": f"w{n}-{i}@example.com"}]})
                conn.request("POST", "/rest/v1/leads.json", body=body, headers=headers)
                resp = conn.getresponse()
                length = resp.getheader("Content-Length")
                envelope = json.loads(resp.read())
                if resp.status != 200 or length is None or not envelope.get("success"):
                    with lock:
                        failures.append((resp.status, envelope))
            conn.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(failures, [])
        state = self.client.state()
        self.assertEqual(len(state["leads"]), 400)
        self.assertLessEqual(state["counters"]["max_concurrency"], 10)

    def test_inspection_config_rejects_unknown_keys(self) -> None:
        status, _, payload = self.client.request("POST", "/_peer/config", {"fault_rat": 1}, auth=False)
        self.assertEqual(status, 400)
        self.assertIn("fault_rat", payload["error"])


class StateFileTest(unittest.TestCase):
    """--state-file keeps data (and the token) across a restart."""

    def test_state_file_round_trip(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "marketo.json")
            peer = PeerProcess("--state-file", path)
            try:
                client = Client(peer.base)
                token = client.login()
                lead_id = client.upsert([{"email": "keep@example.com", "chatInterest": "demo"}])["result"][0][
                    "id"
                ]
                encoded = urllib.parse.quote(COOKIE, safe="")
                client.rest("POST", f"/rest/v1/leads/{lead_id}/associate.json?cookie={encoded}")
                client.rest(
                    "POST",
                    "/rest/v1/programs/1001/members/status.json",
                    {"statusName": "Member", "input": [{"leadId": lead_id}]},
                )
                # Saved without a clean shutdown: wait (bounded) for the file, then SIGKILL.
                saved: Any = {}
                for _ in range(100):
                    if os.path.exists(path):
                        with open(path, encoding="utf-8") as handle:
                            saved = json.load(handle)
                        if saved.get("memberships"):
                            break
                    time.sleep(0.05)
                self.assertEqual(saved["leads"][0]["email"], "keep@example.com")
                peer.proc.kill()
            finally:
                peer.stop()
            peer = PeerProcess("--state-file", path)
            try:
                client = Client(peer.base)
                client.token = token  # the token survives the restart too
                found = client.rest(
                    "GET",
                    f"/rest/v1/leads.json?filterType=cookies&filterValues={encoded}&fields=email,chatInterest",
                )
                self.assertEqual(
                    found["result"], [{"id": lead_id, "email": "keep@example.com", "chatInterest": "demo"}]
                )
                second = client.upsert([{"email": "next@example.com"}])["result"][0]
                self.assertEqual(second, {"id": lead_id + 1, "status": "created"})
                again = client.upsert([{"email": "KEEP@example.com"}])["result"][0]
                self.assertEqual(again, {"id": lead_id, "status": "updated"})
                self.assertEqual(client.state()["program_members"]["1001"][str(lead_id)]["status"], "Member")
            finally:
                peer.stop()  # SIGTERM: the peer flushes before it exits
            peer = PeerProcess("--state-file", path)
            try:
                client = Client(peer.base)
                client.token = token
                found = client.rest(
                    "GET", "/rest/v1/leads.json?filterType=email&filterValues=next%40example.com"
                )
                self.assertEqual([lead["id"] for lead in found["result"]], [lead_id + 1])
            finally:
                peer.stop()


if __name__ == "__main__":
    unittest.main()
