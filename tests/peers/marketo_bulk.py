"""Marketo's Bulk Lead Extract, as the peer answers it (imported by marketo_peer.py).

Jobs: create (fields, format, one filter) -> enqueue -> Queued -> Processing -> Completed, then
the file over HTTP with Range support. Limits as Marketo documents them: at most 2 jobs
processing and 10 queued (processing included) -> 1029 "Too many jobs in queue"; a daily export
allocation (500 MB, resets at midnight US Central) -> 1029 "Export daily quota exceeded" on create
and enqueue; date range filters (createdAt, updatedAt) of at most 31 days; filter types the
subscription lacks -> 1035 "Unsupported filter type for target subscription". The file is a
snapshot taken when the job starts processing; `fileChecksum` is its SHA-256 ("sha256:<hex>").
Where the docs are silent the peer uses 1003 (invalid value / job in the wrong state) and 1004
(no such job); see tests/peers/README.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Callable

MAX_PROCESSING = 2
MAX_QUEUED = 10  # queued + processing
MAX_RANGE = timedelta(days=31)
DATE_FILTERS = ("createdAt", "updatedAt")
OTHER_FILTERS = ("staticListName", "staticListId", "smartListName", "smartListId")
FORMATS = {"CSV": ",", "TSV": "\t", "SSV": " "}
QUOTA_DAY_TZ = timezone(timedelta(hours=-6))
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class BulkError(Exception):
    """A call-level error (code, message), turned into Marketo's envelope by the peer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def render(value: Any) -> str:
    """A value as Marketo writes it in an export file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Exports:
    """The export jobs of one subscription. The caller holds the store's lock."""

    def __init__(self, processing_seconds: float, daily_bytes: int, updated_at_filter: bool) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.processing_seconds = processing_seconds
        self.daily_bytes = daily_bytes
        self.updated_at_filter = updated_at_filter
        self.file_reads = 0
        self.file_bytes_served = 0

    # ---- lifecycle ------------------------------------------------------------------------

    def advance(self, now: float, leads: Callable[[], list[dict[str, Any]]]) -> None:
        """Start queued jobs when a processing slot is free; finish processing ones on time."""
        for job_id in self.order:
            job = self.jobs[job_id]
            if job["status"] == "Processing" and now >= job["_done_at"]:
                job["status"] = "Completed"
                job["finishedAt"] = job["_done_at"]
        for job_id in self.order:
            job = self.jobs[job_id]
            if job["status"] != "Queued":
                continue
            if sum(1 for j in self.jobs.values() if j["status"] == "Processing") >= MAX_PROCESSING:
                break
            job["status"] = "Processing"
            job["startedAt"] = now
            job["_done_at"] = now + self.processing_seconds
            self._write_file(job, leads())
            if now >= job["_done_at"]:
                job["status"] = "Completed"
                job["finishedAt"] = now

    def _write_file(self, job: dict[str, Any], leads: list[dict[str, Any]]) -> None:
        kind, spec = job["_filter"]
        start, end = spec
        rows = []
        for lead in sorted(leads, key=lambda l: l["id"]):
            stamp = parse_when(lead.get(kind))
            if stamp is None or not start <= stamp <= end:
                continue
            rows.append([render(lead.get(f)) for f in job["_fields"]])
        out = io.StringIO()
        writer = csv.writer(out, delimiter=FORMATS[job["format"]], lineterminator="\n")
        writer.writerow(job["_headers"])
        writer.writerows(rows)
        data = out.getvalue().encode("utf-8")
        job["_file"] = data
        job["numberOfRecords"] = len(rows)
        job["fileSize"] = len(data)
        job["fileChecksum"] = "sha256:" + hashlib.sha256(data).hexdigest()

    def used_today(self, now: float) -> int:
        today = datetime.fromtimestamp(now, QUOTA_DAY_TZ).date()
        return sum(
            j.get("fileSize", 0)
            for j in self.jobs.values()
            if j["status"] in ("Processing", "Completed")
            and datetime.fromtimestamp(j["startedAt"], QUOTA_DAY_TZ).date() == today
        )

    def _check_quota(self, now: float) -> None:
        if self.used_today(now) >= self.daily_bytes:
            raise BulkError("1029", "Export daily quota exceeded")

    # ---- endpoints ------------------------------------------------------------------------

    def create(self, body: Any, known_fields: set[str], now: float) -> dict[str, Any]:
        """POST /bulk/v1/leads/export/create.json."""
        if not isinstance(body, dict):
            raise BulkError("609", "Invalid JSON")
        self._check_quota(now)
        fields = body.get("fields")
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise BulkError("1003", "fields: a non-empty array of field names is required")
        for name in fields:
            if name not in known_fields:
                raise BulkError("1006", f"Field '{name}' not found")
        fmt = body.get("format", "CSV")
        if fmt not in FORMATS:
            raise BulkError("1003", f"Invalid format '{fmt}'")
        headers = list(fields)
        renames = body.get("columnHeaderNames")
        if renames is not None:
            if not isinstance(renames, dict):
                raise BulkError("1003", "columnHeaderNames must be an object")
            headers = [str(renames.get(f, f)) for f in fields]
        flt = body.get("filter")
        if not isinstance(flt, dict) or len(flt) != 1:
            raise BulkError("1003", "filter: exactly one filter type is required")
        (kind, spec), = flt.items()
        if kind in OTHER_FILTERS or (kind == "updatedAt" and not self.updated_at_filter):
            raise BulkError("1035", "Unsupported filter type for target subscription")
        if kind not in DATE_FILTERS:
            raise BulkError("1003", f"Invalid filter type '{kind}'")
        if not isinstance(spec, dict):
            raise BulkError("1003", f"{kind}: startAt and endAt are required")
        start, end = parse_when(spec.get("startAt")), parse_when(spec.get("endAt"))
        if start is None or end is None:
            raise BulkError("1003", f"{kind}: startAt and endAt must be ISO 8601 date-times")
        if end < start:
            raise BulkError("1003", f"{kind}: endAt is before startAt")
        if end - start > MAX_RANGE:
            raise BulkError("1003", f"{kind}: date range exceeds 31 days")
        job_id = str(uuid.uuid4())
        job = {
            "exportId": job_id,
            "format": fmt,
            "status": "Created",
            "createdAt": now,
            "_fields": list(fields),
            "_headers": headers,
            "_filter": (kind, (start, end)),
        }
        self.jobs[job_id] = job
        self.order.append(job_id)
        return self.view(job)

    def _job(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise BulkError("1004", f"Export job '{job_id}' not found")
        return job

    def enqueue(self, job_id: str, now: float, leads: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        """POST /bulk/v1/leads/export/{exportId}/enqueue.json."""
        job = self._job(job_id)
        if job["status"] != "Created":
            raise BulkError("1003", f"Job is in '{job['status']}' state, not 'Created'")
        self._check_quota(now)
        waiting = sum(1 for j in self.jobs.values() if j["status"] in ("Queued", "Processing"))
        if waiting >= MAX_QUEUED:
            raise BulkError("1029", "Too many jobs in queue")
        job["status"] = "Queued"
        job["queuedAt"] = now
        self.advance(now, leads)
        return self.view(job)

    def status(self, job_id: str) -> dict[str, Any]:
        """GET /bulk/v1/leads/export/{exportId}/status.json."""
        return self.view(self._job(job_id))

    def cancel(self, job_id: str) -> dict[str, Any]:
        """POST /bulk/v1/leads/export/{exportId}/cancel.json."""
        job = self._job(job_id)
        if job["status"] in ("Completed", "Cancelled", "Failed"):
            raise BulkError("1003", f"Job is in '{job['status']}' state")
        job["status"] = "Cancelled"
        return self.view(job)

    def list(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET /bulk/v1/leads/export.json?status=.."""
        wanted = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
        return [self.view(self.jobs[j]) for j in self.order if not wanted or self.jobs[j]["status"] in wanted]

    def file(self, job_id: str, range_header: str | None) -> tuple[int, bytes, dict[str, str]]:
        """GET /bulk/v1/leads/export/{exportId}/file.json: (HTTP status, body, headers)."""
        job = self._job(job_id)
        if job["status"] != "Completed":
            raise BulkError("1003", f"Job is in '{job['status']}' state, the file is not ready")
        data: bytes = job["_file"]
        size = len(data)
        self.file_reads += 1
        if not range_header:
            self.file_bytes_served += size
            return 200, data, {"Accept-Ranges": "bytes"}
        match = RANGE_RE.match(range_header.strip())
        if not match or (not match.group(1) and not match.group(2)):
            return 416, b"", {"Content-Range": f"bytes */{size}"}
        if match.group(1):
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else size - 1
        else:
            first = max(0, size - int(match.group(2)))
            last = size - 1
        last = min(last, size - 1)
        if first >= size or last < first:
            return 416, b"", {"Content-Range": f"bytes */{size}"}
        part = data[first : last + 1]
        self.file_bytes_served += len(part)
        return 206, part, {"Accept-Ranges": "bytes", "Content-Range": f"bytes {first}-{last}/{size}"}

    @staticmethod
    def view(job: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"exportId": job["exportId"], "format": job["format"], "status": job["status"]}
        for key in ("createdAt", "queuedAt", "startedAt", "finishedAt"):
            if job.get(key) is not None:
                out[key] = iso(job[key])
        if job["status"] == "Completed":
            out["numberOfRecords"] = job["numberOfRecords"]
            out["fileSize"] = job["fileSize"]
            out["fileChecksum"] = job["fileChecksum"]
        return out

    def public(self) -> dict[str, Any]:
        """What /_peer/state shows."""
        return {
            "jobs": [self.view(self.jobs[j]) for j in self.order],
            "file_reads": self.file_reads,
            "file_bytes_served": self.file_bytes_served,
        }


def now() -> float:
    return time.time()
