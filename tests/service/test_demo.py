"""``walkout serve --demo``: the README's one-command live store, run for real."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.service.conftest import free_port, wait_until

ADMIN = "admin-key-for-the-demo-test"

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
    reason="Debian's mosquitto is not installed (.ci/run installs it)",
)


def test_demo_plays_a_store_over_mqtt_charges_receipts_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "walkout.cli", "serve", "--demo", "--demo-dir", str(tmp_path),
           "--minutes", "2", "--speed", "8", "--port", str(port), "--admin-key", ADMIN]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def health() -> dict | None:
            try:
                return httpx.get(f"{url}/v1/health", timeout=2).json()
            except httpx.HTTPError:
                return None

        wait_until(lambda: (h := health()) and h["log_length"] > 1000, "messages over MQTT", 90)
        staff = {"X-API-Key": ADMIN}
        receipts = wait_until(
            lambda: httpx.get(f"{url}/v1/staff/receipts", headers=staff).json(),
            "a receipt",
            60,
        )
        assert receipts[0]["items"], "the first shopper of seed 7 takes something"
        assert receipts[0]["status"] in ("charged", "held_for_review", "held_for_id_check")
        assert health()["rejected"] == 0
        broker_pid = tmp_path / "state" / "walkout.db.mqtt" / "mosquitto.pid"
        assert broker_pid.exists()
    finally:
        proc.send_signal(signal.SIGTERM)  # what a service manager sends
        _, err = proc.communicate(timeout=30)
    assert "dashboard: http://" in err and "/dashboard/?key=" in err
    assert proc.returncode == 0, err
    assert not broker_pid.exists(), "the embedded broker must stop with the service"
