"""The batch summary: `batch_summary.json`, `batch_summary.csv` and `index.html`.

Written together (one `OutputTransaction`) at the end of a run, also an interrupted one,
with one row per input: what happened to it now or in the earlier run that did it.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonnet_studio.core.batch.jobs import BatchJob, FileResult
from anonnet_studio.core.fileio import OutputTransaction, atomic_write_text

SUMMARY_JSON = "batch_summary.json"
SUMMARY_CSV = "batch_summary.csv"
SUMMARY_HTML = "index.html"
CSV_COLUMNS = (
    "source", "status", "verdict", "leaks", "people", "duration_s", "frames", "seconds",
    "output", "report", "log", "error",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BatchSummary:
    rows: tuple[tuple[BatchJob, FileResult], ...]
    seconds: float  # wall time of this run
    settings: Mapping[str, Any]

    def counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter(result.status for _, result in self.rows)
        counts["pass"] = sum(1 for _, r in self.rows if r.ok)
        counts["not_pass"] = sum(
            1 for _, r in self.rows if r.status in ("done", "skipped") and not r.ok
        )
        return {"files": len(self.rows), **counts}


def write_summary(out_dir: Path, summary: BatchSummary) -> list[Path]:
    """The three summary files in `out_dir`, all or none."""
    rows = [_row(out_dir, job, result) for job, result in summary.rows]
    data = {
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(summary.seconds, 3),
        "counts": summary.counts(),
        "settings": dict(summary.settings),
        "files": rows,
    }
    with OutputTransaction() as transaction:
        atomic_write_text(
            out_dir / SUMMARY_JSON,
            json.dumps(data, indent=2, default=str) + "\n",
            transaction=transaction,
        )
        atomic_write_text(out_dir / SUMMARY_CSV, _csv(rows), transaction=transaction)
        atomic_write_text(out_dir / SUMMARY_HTML, _html(data), transaction=transaction)
        return transaction.commit()


def _row(out_dir: Path, job: BatchJob, result: FileResult) -> dict[str, Any]:
    finished = result.status in ("done", "skipped")
    row = result.to_json()
    # Paths relative to the summary, so the tree can be moved or served as it is.
    row["output"] = _relative(job.video, out_dir) if finished else ""
    row["report"] = _relative(job.report_html, out_dir) if finished else ""
    row["log"] = _relative(job.log, out_dir) if job.log.exists() else ""
    return row


def _relative(path: Path, out_dir: Path) -> str:
    return Path(os.path.relpath(path, out_dir)).as_posix()


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_COLUMNS})
    return buffer.getvalue()


def _html(data: dict[str, Any]) -> str:
    def cell(value: Any) -> str:
        return f"<td>{html.escape('' if value is None else str(value))}</td>"

    def link(href: str, label: str) -> str:
        if not href:
            return "<td></td>"
        return f'<td><a href="{html.escape(href, quote=True)}">{html.escape(label)}</a></td>'

    head = "".join(
        f"<th>{h}</th>"
        for h in ("source", "status", "verdict", "leaks", "people", "duration (s)",
                  "time (s)", "video", "report", "log", "error")
    )  # fmt: skip
    body = []
    for row in data["files"]:
        css = "ok" if row["status"] in ("done", "skipped") and row["verdict"] == "PASS" else "bad"
        body.append(
            f'<tr class="{css}">'
            + cell(row["source"]) + cell(row["status"]) + cell(row["verdict"])
            + cell(row["leaks"]) + cell(row["people"]) + cell(row["duration_s"])
            + cell(row["seconds"]) + link(row["output"], "video")
            + link(row["report"], "report") + link(row["log"], "log") + cell(row["error"])
            + "</tr>"
        )  # fmt: skip
    counts = ", ".join(f"{html.escape(k)}: {v}" for k, v in data["counts"].items())
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>AnonNET batch</title>'
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px}.bad{background:#fdd}"
        ".ok{background:#efe}</style></head><body>"
        f"<h1>AnonNET Studio batch</h1><p>{html.escape(data['created_utc'])} - {counts}</p>"
        f"<table><tr>{head}</tr>{''.join(body)}</table></body></html>\n"
    )
