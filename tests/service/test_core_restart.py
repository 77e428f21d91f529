"""``kill -9`` in the middle of a day: the restarted service gives exactly the same receipts.

The real command (``walkout serve --no-mqtt``) runs as a subprocess on a SQLite file; part of
a simulated recording goes in over HTTP, the process is killed without warning, a new one is
started on the same database, the rest goes in. The receipts must equal those of one engine fed
the whole recording without interruption, and each must be charged exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.service.conftest import ADMIN_KEY, free_port, wait_until

from walkout.engine import Engine, FinalReceipt
from walkout.recording.files import iter_messages, read_store
from walkout.service.settings import ServiceSettings

BATCH = 2000


class Served:
    """One ``walkout serve`` process."""

    def __init__(self, store: Path, db_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-c", "from walkout.cli import app; app()", "serve",
            "--store", str(store), "--db", db_url, "--port", str(self.port), "--no-mqtt",
            "--admin-key", ADMIN_KEY,
        ]  # fmt: skip
        self._log = log.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.url, headers={"X-API-Key": ADMIN_KEY}, timeout=30)
        wait_until(self._up, f"walkout serve on port {self.port} (log in {log})", 60)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"walkout serve exited with {self.proc.returncode}")
        try:
            return bool(self.http.get("/v1/health").json()["ok"])
        except httpx.TransportError:
            return False

    def post(self, lines: list[bytes], key: str) -> None:
        for i in range(0, len(lines), BATCH):
            body = b"[" + b",".join(lines[i : i + BATCH]) + b"]"
            r = self.http.post("/v1/messages", content=body, headers={"X-API-Key": key})
            assert r.status_code == 202, r.text

    def caught_up(self) -> bool:
        h = self.http.get("/v1/health").json()
        return bool(h["fed_seq"] == h["log_length"] and h["queued"] == 0)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.http.close()
        self._log.close()


def _reference(recording: Path) -> tuple[list[dict[str, Any]], int]:
    """Receipts of one uninterrupted engine with the service's live config (no ``finish``:
    the live store never ends), and how many messages it took to close the first one."""
    config = ServiceSettings(store_dir=recording).engine_config()  # the serve defaults
    engine = Engine(read_store(recording), config)
    receipts: list[dict[str, Any]] = []
    first_done = 0
    for n, msg in enumerate(iter_messages(recording), start=1):
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt):
                r = out.receipt
                receipts.append(
                    {
                        "account": r.account,
                        "items": r.items,
                        "total": f"{r.total:.2f}",
                        "needs_review": r.needs_review,
                    }
                )
                first_done = first_done or n
    return receipts, first_done


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Served]]:
    procs: list[Served] = []
    yield procs
    for p in procs:
        p.close()


def test_kill_9_and_restart_gives_the_same_receipts_and_charges_once(
    sim_recording: Path, tmp_path: Path, served: list[Served]
) -> None:
    want, first_done = _reference(sim_recording)
    assert len(want) == 2 and first_done
    lines = [ln for ln in (sim_recording / "events.jsonl").read_bytes().splitlines() if ln]
    split = first_done + 500  # one receipt is charged before the crash, one after
    assert split < len(lines) - 1000
    db_url = f"sqlite:///{tmp_path}/store.db"

    first = Served(sim_recording, db_url, tmp_path / "serve.log")
    served.append(first)
    device = first.http.post("/v1/admin/keys", json={"role": "device", "name": "floor"})
    key = device.json()["key"]
    first.post(lines[:split], key)
    wait_until(first.caught_up, "the first service to feed what it logged")
    before = first.http.get("/v1/staff/ledger").json()
    assert len(before) == 1  # the first receipt was charged before the crash
    first.kill()

    second = Served(sim_recording, db_url, tmp_path / "serve.log")
    served.append(second)
    assert second.http.get("/v1/staff/ledger").json() == before  # the rebuild charged nothing
    second.post(lines[split:], key)  # the device key survived the crash too

    got = wait_until(
        lambda: (r := second.http.get("/v1/staff/receipts").json()) and len(r) == len(want) and r,
        "every receipt after the restart",
    )
    assert [{k: r[k] for k in ("account", "items", "total", "needs_review")} for r in got] == want
    for r in got:  # session ids are the log seq of the account's first entry: same every run
        account, seq = r["session_id"].rsplit(":", 1)
        assert account == r["account"] and b'"entry"' in lines[int(seq) - 1]
        assert r["account"].encode() in lines[int(seq) - 1]
    ledger = second.http.get("/v1/staff/ledger").json()
    assert sorted((e["key"], e["amount"]) for e in ledger) == sorted(
        (f"charge:{r['session_id']}", r["total"]) for r in got if r["status"] == "charged"
    )
    assert len(ledger) == sum(r["status"] == "charged" for r in got) == 2
