"""``walkout serve --demo``: a whole live store on one machine, for trying walkout out.

A simulated store (the simulator's preset) is served with the embedded broker and a fresh
SQLite log; its recording is then played over MQTT by simulated devices in real time, so the
dashboard shows shoppers moving, carts filling and receipts charged at the exit.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from walkout.service.devices import RecordingDevices
from walkout.service.runtime import LiveStore
from walkout.sim import simulate


def prepare_demo(
    demo_dir: Path, preset: str, minutes: float, speed: float, host: str, port: int
) -> tuple[Path, str, Callable[[LiveStore, Any], Callable[[], None] | None]]:
    """Simulate the store (once per preset and length) and start from an empty log.

    Returns the store folder, the database URL and the hook that starts the devices.
    """
    recording = demo_dir / f"{preset}-{minutes:g}min"
    if not (recording / "store.json").exists():
        print(f"simulating {minutes:g} min of a {preset} store ...", file=sys.stderr, flush=True)
        simulate(recording, preset=preset, seed=7, minutes=minutes)
    state = demo_dir / "state"
    shutil.rmtree(state, ignore_errors=True)  # the demo's store clock starts again at 0
    state.mkdir(parents=True)

    def start_devices(store: LiveStore, mqtt: Any) -> Callable[[], None]:
        staff = store.keys.create("staff", "demo staff")
        print(
            f"dashboard: http://{host}:{port}/dashboard/?key={staff}",
            file=sys.stderr,
            flush=True,
        )
        devices = RecordingDevices(recording, store.store_id, mqtt.device_url, speed).start()
        return devices.stop

    return recording, f"sqlite:///{state / 'walkout.db'}", start_devices
