"""Settings of ``walkout serve``: one validated model, every option documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from walkout.engine.config import (
    LIVE_EXIT_WINDOW_S,
    LIVE_REORDER_WINDOW_S,
    LIVE_WEIGHT_GRACE_S,
    EngineConfig,
    live_config,
)


class ServiceSettings(BaseModel):
    """What a store operator may set; defaults run a single-box store out of the box."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_dir: Path = Field(description="Folder holding the store's store.json (its layout).")
    db_url: str = Field(
        "sqlite:///walkout.db",
        description="SQLAlchemy URL of the durable log: a SQLite file (WAL, synchronous FULL) "
        "or PostgreSQL as postgresql+psycopg://user@host/db. One service per database.",
    )
    host: str = Field("127.0.0.1", description="HTTP listen address.")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port (0 = any free port).")
    mqtt: bool = Field(True, description="Run the MQTT bridge (False: HTTP only).")
    mqtt_url: str | None = Field(
        None, description="Broker to use, mqtt://user:pass@host:port; None starts mosquitto."
    )
    mqtt_port: int | None = Field(
        None, ge=0, le=65535, description="Port of the embedded broker (None: a free one)."
    )
    mqtt_state_dir: Path | None = Field(
        None, description="Where the embedded broker keeps its files (None: beside the DB)."
    )
    mqtt_publish_receipts: bool = Field(
        True, description="Publish final receipts on walkout/S/out/receipts/{account}."
    )
    mqtt_process: bool = Field(
        True,
        description="Run the MQTT bridge in a process of its own (False: a thread of the "
        "service). Its network client then does not compete with the engine for one "
        "interpreter lock; see walkout.service.mqtt_process.",
    )
    admin_key: str | None = Field(
        None,
        min_length=16,
        description="Bootstrap admin API key; None generates one on first start and prints it.",
    )
    reorder_window_s: float = Field(
        LIVE_REORDER_WINDOW_S,
        gt=0,
        description="The engine's reorder window: at least how long a device batches its "
        "lines, plus the network's jitter. Every receipt waits this long after its exit; "
        "entries, exits and track frames later than it are still taken up to 2 s late, out of "
        "order (LIVE_REORDER_WINDOW_S says what shorter windows cost).",
    )
    weight_grace_s: float = Field(
        LIVE_WEIGHT_GRACE_S,
        ge=0,
        description="How much later than the reorder window a weight reading is still taken "
        "(each shelf holds its newest readings back this long); later ones are dropped and "
        "counted in /v1/health's too_late.",
    )
    exit_window_s: float | None = Field(
        LIVE_EXIT_WINDOW_S,
        ge=0,
        description="The reorder window while an exit is held or a leaver's receipt waits: at "
        "least the devices' batching. Receipts then wait this, not the whole window; lines "
        "later than it meanwhile take the late paths. None, or as long as the reorder window: "
        "the reorder window throughout (LIVE_EXIT_WINDOW_S says what it gave).",
    )
    exit_settle_s: float = Field(
        0.0,
        ge=0,
        description="Extra wait (store clock) after an exit before the receipt is final. 0: "
        "final as soon as the shelves the party reached have been read past their exit.",
    )
    max_ahead_s: float = Field(
        60.0,
        gt=0,
        description="A message whose t is further ahead of the newest logged t than the wall "
        "time since then plus this is refused: a device with a wrong clock would otherwise "
        "make every later message too late.",
    )
    quiet_clock_s: float = Field(
        2.0,
        gt=0,
        description="When no message has come for this long (wall time), the service moves "
        "the store clock on by itself, trailing wall time by this much, and logs the move: "
        "leavers' receipts come out in a store gone quiet. A device that batches its lines "
        "must send more often than this, or its late lines are refused as too late.",
    )
    batch_max: int = Field(
        5000,
        ge=1,
        description="Most messages committed in one transaction. Larger batches amortise the "
        "fsync (throughput); each waits for the whole batch's commit (latency).",
    )
    commit_linger_s: float = Field(
        0.005,
        ge=0,
        description="How long the ingestor waits for more messages before it commits fewer "
        "than batch_max / 10 (group commit): each commit is an fsync, and a store's devices "
        "send a few hundred small payloads a second. Every message waits up to this much "
        "longer for its acknowledgement. 0: commit whatever is queued at once.",
    )
    queue_max: int = Field(
        200_000,
        ge=1,
        description="Messages waiting for the log; beyond it submit() fails fast (back-pressure) "
        "instead of growing memory.",
    )
    token_ttl_s: float = Field(900.0, gt=0, description="How long an entry token is valid.")
    subscriber_queue: int = Field(
        1000, ge=1, description="Events held per live subscriber; more are dropped and counted."
    )

    def engine_config(self) -> EngineConfig:
        """The engine as this service runs it (``live_config`` with these settings)."""
        return live_config(
            reorder_window_s=self.reorder_window_s,
            weight_grace_s=self.weight_grace_s,
            exit_window_s=self.exit_window_s,
            exit_settle_s=self.exit_settle_s,
        )
