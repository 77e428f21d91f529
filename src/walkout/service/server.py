"""Running the service: the store, its HTTP server and (optionally) the MQTT bridge.

``run`` is what ``walkout serve`` does in the foreground; ``RunningService`` runs the same in a
background thread on a socket it binds itself, for tests and benchmarks that need a real server.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from walkout.service.app import create_app
from walkout.service.heap import freeze_startup_heap
from walkout.service.runtime import LiveStore
from walkout.service.settings import ServiceSettings

GRACE_S = 5
"""Seconds the HTTP server waits for open requests and streams when it is told to stop."""


def _announce(store: LiveStore) -> None:
    if store.generated_admin_key:
        print(
            f"admin API key (shown once, keep it): {store.generated_admin_key}",
            file=sys.stderr,
            flush=True,
        )


def _start_mqtt(store: LiveStore, settings: ServiceSettings) -> Any:
    if not settings.mqtt:
        return None
    from walkout.service.mqtt import start_mqtt  # only when MQTT is on

    return start_mqtt(store, settings)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


OnReady = Callable[[LiveStore, Any], Callable[[], None] | None]
"""Called once the store and MQTT are up (store, MQTT service or None); returns a stopper."""


def run(settings: ServiceSettings, on_ready: OnReady | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM, then stop cleanly."""
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with Python's default
    # action that would end the process before the broker and the log are closed below.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    store = LiveStore(settings)
    freeze_startup_heap()  # before the rebuild: the engine's state must stay collectable
    store.start()
    _announce(store)
    bridge = None
    stop_extra: Callable[[], None] | None = None
    try:
        bridge = _start_mqtt(store, settings)
        if on_ready is not None:
            stop_extra = on_ready(store, bridge)
        print(
            f"walkout serving store {store.store_id!r} on http://{settings.host}:{settings.port}"
            f" (log {len(store.log)} messages)",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.run(
            create_app(store),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            ws="websockets-sansio",
            timeout_graceful_shutdown=GRACE_S,
        )
    finally:
        if stop_extra is not None:
            stop_extra()
        if bridge is not None:
            bridge.close()
        store.stop()


class RunningService:
    """The whole service in a background thread on a loopback port of its own."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.store = LiveStore(settings)
        self.bridge: Any = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((settings.host, settings.port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{settings.host}:{self.port}"
        self.ws_url = f"ws://{settings.host}:{self.port}"
        config = uvicorn.Config(
            create_app(self.store),
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=GRACE_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout_s: float = 20.0) -> RunningService:
        """Rebuild the store, start MQTT (if on) and the HTTP server; return once it listens."""
        self.store.start()
        try:
            self.bridge = _start_mqtt(self.store, self.settings)
            self._thread.start()
            deadline = time.monotonic() + timeout_s
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the HTTP server did not start on {self.url}")
                time.sleep(0.01)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.store.hub.close_all()  # live streams end first, so the server need not wait
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self.bridge is not None:
            self.bridge.close()
        self.store.stop()
        self._sock.close()

    def __enter__(self) -> RunningService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
