"""Shared fixtures for the live service: a real server on a loopback port, keys, PostgreSQL.

Everything here runs the real product: ``RunningService`` is the same store, FastAPI app and
uvicorn server that ``walkout serve`` runs, on a socket bound for the test; ``postgres`` is a
real PostgreSQL server started in a temporary folder. Nothing is mocked.

For other service tests (MQTT, dashboard):
    service        a started service on SQLite, MQTT off (function scope) -> Harness
    make_service   factory: make_service(store_dir=..., db_url=..., mqtt=...) -> Harness
    scene_store    a store folder with tests/engine/scenes.small_store()
    sim_recording  a simulated busy recording (2 min, seed 1; 2 accounts, truth.json)
    postgres_url   a fresh PostgreSQL database URL (skips if the binaries are absent)
    free_port()    a free loopback TCP port; wait_until(fn, what) polls with a deadline
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from pydantic import BaseModel

from walkout.recording.files import write_store
from walkout.service.server import RunningService
from walkout.service.settings import ServiceSettings

ADMIN_KEY = "test-admin-key-0123456789"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

T = TypeVar("T")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for servers that bind their own socket)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], T | None], what: str, timeout_s: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def as_json(msgs: list[Any]) -> bytes:
    """Messages (models or dicts) as one JSON array body."""
    return orjson.dumps(
        [m.model_dump(mode="json") if isinstance(m, BaseModel) else m for m in msgs]
    )


@dataclass
class Harness:
    """A running service and the calls tests make on it."""

    svc: RunningService
    admin_key: str = ADMIN_KEY
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.svc.url

    @property
    def ws_url(self) -> str:
        return self.svc.ws_url

    @property
    def store(self) -> Any:
        return self.svc.store

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=30.0)
        self._clients.append(c)
        return c

    def key(self, role: str, account: str | None = None, name: str | None = None) -> str:
        """A new API key made through the admin route."""
        body = {"role": role, "name": name or f"{role}-{account or 'test'}", "account": account}
        r = self.client(self.admin_key).post("/v1/admin/keys", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def feed(self, msgs: list[Any], device_key: str, batch: int = 2000) -> list[int]:
        """Post messages in batches as a device; returns their log seqs."""
        c = self.client(device_key)
        seqs: list[int] = []
        for i in range(0, len(msgs), batch):
            r = c.post("/v1/messages", content=as_json(msgs[i : i + batch]))
            assert r.status_code == 202, r.text
            seqs += r.json()["seqs"]
        return seqs

    def wait_fed(self) -> None:
        """Until the engine has taken every logged message."""
        c = self.client()

        def done() -> bool:
            h = c.get("/v1/health").json()
            return bool(h["fed_seq"] == h["log_length"] and h["queued"] == 0)

        wait_until(done, "the engine to catch up with the log")

    def receipts(self) -> list[dict[str, Any]]:
        return list(self.client(self.admin_key).get("/v1/staff/receipts").json())

    def ledger(self, **params: str) -> list[dict[str, Any]]:
        return list(self.client(self.admin_key).get("/v1/staff/ledger", params=params).json())

    def close(self) -> None:
        for c in self._clients:
            c.close()
        self.svc.stop()


@pytest.fixture(scope="session")
def scene_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder with the engine tests' small store (one shelf, beer age-restricted)."""
    from tests.engine.scenes import small_store

    folder = tmp_path_factory.mktemp("scene-store")
    write_store(folder, small_store())
    return folder


@pytest.fixture(scope="session")
def sim_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated busy store, 2 minutes, seed 1: 2 accounts, ~37k messages, truth.json."""
    from walkout.sim import simulate

    folder = tmp_path_factory.mktemp("sim") / "busy"
    simulate(folder, preset="busy", seed=1, minutes=2.0)
    return folder


@pytest.fixture
def make_service(tmp_path: Path, scene_store: Path) -> Iterator[Callable[..., Harness]]:
    """Start services (stopped at the end of the test); SQLite in tmp_path, MQTT off."""
    started: list[Harness] = []

    def make(**overrides: Any) -> Harness:
        values: dict[str, Any] = {
            "store_dir": scene_store,
            "db_url": f"sqlite:///{tmp_path}/walkout.db",
            "port": 0,
            "mqtt": False,
            "admin_key": ADMIN_KEY,
        }
        values.update(overrides)
        harness = Harness(RunningService(ServiceSettings(**values)).start())
        started.append(harness)
        return harness

    yield make
    for h in reversed(started):
        with contextlib.suppress(Exception):
            h.close()


@pytest.fixture
def service(make_service: Callable[..., Harness]) -> Harness:
    """A started service over the small scene store (SQLite, no MQTT)."""
    return make_service()


# --- PostgreSQL -------------------------------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL 15 server of our own in a temporary folder; yields its base URL."""
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
    root = Path(tempfile.mkdtemp(prefix="walkout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(root / "log"), "-w", "-t", "30", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the test PostgreSQL server."""
    import psycopg

    name = f"walkout_{os.getpid()}_{time.monotonic_ns()}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


# --- small scenes on the scene store (exact control; a few hundred messages each) ----------


@pytest.fixture
def two_shoppers() -> list[Any]:
    """acct-a takes a cola (plate 0), acct-b a bag of chips (plate 3); both leave."""
    from tests.engine.scenes import Scene, small_store

    sc = Scene(small_store(), seed=1)
    sc.entry(1.0, "acct-a")
    sc.entry(3.5, "acct-b")
    sc.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (8.0, 1.0, 2.4), (11.0, 3.5, 0.2), (12.0, 3.5, -0.5)],
        reaches=[(0, 5.0, 6.5)],
        both_hands=True,
    )
    sc.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.0, 2.2, 2.4), (9.0, 2.2, 2.4), (13.0, 3.5, 0.2), (14.0, 3.5, -0.5)],
        reaches=[(3, 6.8, 8.2)],
        both_hands=True,
    )
    sc.pick(0, 5.7, 368.0)
    sc.pick(3, 7.5, 161.0)
    sc.exit(11.0)
    sc.exit(13.0)
    return list(sc.build(17.0))


@pytest.fixture
def ambiguous() -> list[Any]:
    """acct-a and acct-b stand at plate 0 with hands unseen when a cola goes: both to review."""
    from tests.engine.scenes import Reach, Scene, small_store

    sc = Scene(small_store(), seed=2)
    sc.entry(1.0, "acct-a")
    sc.entry(3.5, "acct-b")
    hidden = [Reach(0, 5.0, 6.5, hidden="both")]
    sc.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (9.0, 1.0, 2.4), (12.0, 3.5, 0.2), (13.0, 3.5, -0.5)],
        reaches=hidden,
        both_hands=True,
    )
    sc.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.0, 1.1, 2.4), (9.5, 1.1, 2.4), (14.0, 3.5, 0.2), (15.0, 3.5, -0.5)],
        reaches=hidden,
        both_hands=True,
    )
    sc.pick(0, 5.8, 368.0)
    sc.exit(12.0)
    sc.exit(14.0)
    return list(sc.build(19.0))


@pytest.fixture
def beer() -> list[Any]:
    """acct-c takes a cola and a beer (age-restricted) and leaves."""
    from tests.engine.scenes import Scene, small_store

    sc = Scene(small_store(), seed=3)
    sc.entry(1.0, "acct-c")
    sc.person(
        "tc",
        [(2.0, 0.5, 0.3), (4.0, 1.2, 2.4), (10.0, 1.2, 2.4), (13.0, 3.5, 0.2), (14.0, 3.5, -0.5)],
        reaches=[(0, 4.8, 6.2), (1, 7.3, 8.7)],
        both_hands=True,
    )
    sc.pick(0, 5.5, 368.0)
    sc.pick(1, 8.0, 511.0)
    sc.exit(13.0)
    return list(sc.build(17.0))
