"""Bulk Lead Extract and standard activities of the Marketo peer, over HTTP to a real peer process.

Run from the repo root:
    python3 -m unittest discover -s tests/peers -p 'test_marketo_bulk.py'
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
import unittest
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from test_marketo_peer import Client, PeerProcess, error_code


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BulkExtractTest(unittest.TestCase):
    peer_process: PeerProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.peer_process = PeerProcess("--export-seconds", "0.3")

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

    def window(self, days: float = 1) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"createdAt": {"startAt": iso(now - timedelta(days=days)), "endAt": iso(now + timedelta(hours=1))}}

    def create(self, **body: Any) -> Any:
        body.setdefault("fields", ["id", "email", "firstName"])
        body.setdefault("filter", self.window())
        return self.client.rest("POST", "/bulk/v1/leads/export/create.json", body)

    def wait_completed(self, job: str) -> dict[str, Any]:
        for _ in range(100):
            st = self.client.rest("GET", f"/bulk/v1/leads/export/{job}/status.json")["result"][0]
            if st["status"] == "Completed":
                return st
            time.sleep(0.05)
        self.fail("job did not complete")

    def test_create_enqueue_status_file_with_ranges(self) -> None:
        seeded = [{"email": f"p{i}@example.com", "firstName": f'Ann, "{i}"\nx'} for i in range(25)]
        self.client.peer("POST", "/_peer/seed", {"leads": seeded})
        created = self.create()["result"][0]
        self.assertEqual(created["status"], "Created")
        job = created["exportId"]
        early = self.client.rest("GET", f"/bulk/v1/leads/export/{job}/file.json")
        self.assertEqual(error_code(early), "1003")  # no file before Completed
        queued = self.client.rest("POST", f"/bulk/v1/leads/export/{job}/enqueue.json")["result"][0]
        self.assertIn(queued["status"], ("Queued", "Processing"))
        again = self.client.rest("POST", f"/bulk/v1/leads/export/{job}/enqueue.json")
        self.assertEqual(error_code(again), "1003")
        st = self.wait_completed(job)
        self.assertEqual(st["numberOfRecords"], 25)
        status, headers, whole = self.client.request("GET", f"/bulk/v1/leads/export/{job}/file.json")
        self.assertEqual(status, 200)
        self.assertEqual(len(whole), st["fileSize"])
        self.assertEqual(st["fileChecksum"], "sha256:" + hashlib.sha256(whole).hexdigest())
        rows = list(csv.reader(io.StringIO(whole.decode())))
        self.assertEqual(rows[0], ["id", "email", "firstName"])
        self.assertEqual(rows[1][2], 'Ann, "0"\nx')
        self.assertEqual(len(rows), 26)
        parts = []
        offset = 0
        while offset < len(whole):
            status, headers, part = self.client.request(
                "GET", f"/bulk/v1/leads/export/{job}/file.json", headers={"Range": f"bytes={offset}-{offset + 99}"}
            )
            self.assertEqual(status, 206)
            self.assertTrue(headers["Content-Range"].startswith(f"bytes {offset}-"))
            self.assertTrue(headers["Content-Range"].endswith(f"/{len(whole)}"))
            parts.append(part)
            offset += len(part)
        self.assertEqual(b"".join(parts), whole)
        status, headers, _ = self.client.request(
            "GET", f"/bulk/v1/leads/export/{job}/file.json", headers={"Range": f"bytes={len(whole)}-"}
        )
        self.assertEqual(status, 416)
        self.assertEqual(headers["Content-Range"], f"bytes */{len(whole)}")

    def test_filters_and_fields_are_checked(self) -> None:
        now = datetime.now(UTC)
        too_long = {"createdAt": {"startAt": iso(now - timedelta(days=32)), "endAt": iso(now)}}
        self.assertEqual(error_code(self.create(filter=too_long)), "1003")
        self.assertEqual(error_code(self.create(filter={"staticListName": "x"})), "1035")
        self.assertEqual(error_code(self.create(fields=["FirstName"])), "1006")
        self.assertEqual(error_code(self.create(filter={})), "1003")
        self.client.peer("POST", "/_peer/config", {"updated_at_filter": False})
        updated = {"updatedAt": {"startAt": iso(now - timedelta(days=1)), "endAt": iso(now)}}
        self.assertEqual(error_code(self.create(filter=updated)), "1035")
        self.assertEqual(error_code(self.client.rest("GET", "/bulk/v1/leads/export/0-0/status.json")), "1004")

    def test_only_ten_jobs_queue_and_two_process(self) -> None:
        self.client.peer("POST", "/_peer/config", {"export_seconds": 30})
        jobs = [self.create()["result"][0]["exportId"] for _ in range(11)]
        for job in jobs[:10]:
            self.assertIsNone(error_code(self.client.rest("POST", f"/bulk/v1/leads/export/{job}/enqueue.json")))
        full = self.client.rest("POST", f"/bulk/v1/leads/export/{jobs[10]}/enqueue.json")
        self.assertEqual(full["errors"][0], {"code": "1029", "message": "Too many jobs in queue"})
        states = [j["status"] for j in self.client.rest("GET", "/bulk/v1/leads/export.json")["result"]]
        self.assertEqual(states.count("Processing"), 2)
        self.assertEqual(states.count("Queued"), 8)
        self.client.rest("POST", f"/bulk/v1/leads/export/{jobs[0]}/cancel.json")
        self.assertIsNone(error_code(self.client.rest("POST", f"/bulk/v1/leads/export/{jobs[10]}/enqueue.json")))

    def test_daily_export_allocation(self) -> None:
        self.client.peer("POST", "/_peer/seed", {"leads": [{"email": "a@example.com"}]})
        self.client.peer("POST", "/_peer/config", {"export_daily_bytes": 10})
        job = self.create()["result"][0]["exportId"]
        self.client.rest("POST", f"/bulk/v1/leads/export/{job}/enqueue.json")
        self.wait_completed(job)
        over = self.create()
        self.assertEqual(over["errors"][0], {"code": "1029", "message": "Export daily quota exceeded"})

    def test_seeded_standard_activities_are_listed_by_type_and_lead(self) -> None:
        seeded = self.client.peer(
            "POST", "/_peer/seed", {"leads": [{"email": "v@example.com"}, {"email": "w@example.com"}]}
        )
        lead = seeded["leads"][0]["id"]
        when = iso(datetime.now(UTC) - timedelta(days=3))
        answer = self.client.peer(
            "POST",
            "/_peer/seed",
            {"activities": [
                {"email": "v@example.com", "activityTypeId": 1, "activityDate": when, "primaryAttributeValue": "/pricing"},
                {"email": "w@example.com", "activityTypeId": 11},
            ]},
        )  # fmt: skip
        self.assertEqual(answer["activities"][0]["leadId"], lead)
        types = self.client.rest("GET", "/rest/v1/activities/types.json")["result"]
        self.assertIn({"id": 11, "name": "Click Email"}, [{"id": t["id"], "name": t["name"]} for t in types])
        since = urllib.parse.quote(iso(datetime.now(UTC) - timedelta(days=30)))
        token = self.client.rest("GET", f"/rest/v1/activities/pagingtoken.json?sinceDatetime={since}")["nextPageToken"]
        page = self.client.rest(
            "GET", f"/rest/v1/activities.json?nextPageToken={token}&activityTypeIds=1,11&leadIds={lead}"
        )
        self.assertEqual([(a["activityTypeId"], a["activityDate"]) for a in page["result"]], [(1, when)])
        bad = self.client.request("POST", "/_peer/seed", {"activities": [{"email": "v@example.com", "activityTypeId": 999}]}, auth=False)
        self.assertEqual(bad[0], 400)


if __name__ == "__main__":
    unittest.main()
