"""Running an engine over a recording folder: the file edge of the engine.

The engine never sees a file: this module streams events.jsonl line by line into it, collects
what it returns, and reports rejected lines (with file and line) instead of stopping on them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from walkout.engine import CartChange, Engine, EngineConfig, FinalReceipt, Receipt, StoreAlert
from walkout.recording.files import LineError, iter_message_batches, read_store
from walkout.recording.models import (
    EntryMsg,
    ExitMsg,
    ReceiptsFile,
    StoreLayout,
    TrackMsg,
    WeightMsg,
)


class ReceiptEngine(Protocol):
    """What replay needs of an engine (the real one or a baseline)."""

    def feed(self, msg: WeightMsg | EntryMsg | TrackMsg | ExitMsg) -> object: ...

    def finish(self) -> object: ...


@dataclass
class ReplayResult:
    """Everything a replay produced."""

    receipts: list[Receipt] = field(default_factory=list)
    changes: list[CartChange] = field(default_factory=list)
    alerts: list[StoreAlert] = field(default_factory=list)
    rejected: list[LineError] = field(default_factory=list)
    messages: int = 0

    def receipts_file(self) -> ReceiptsFile:
        return ReceiptsFile(receipts=[r.to_out() for r in self.receipts])


def _collect(result: ReplayResult, outputs: object, keep_changes: bool) -> None:
    if not isinstance(outputs, list):
        return
    for item in outputs:
        if isinstance(item, FinalReceipt):
            result.receipts.append(item.receipt)
            if keep_changes:
                result.changes.extend(item.changes)
        elif isinstance(item, Receipt):
            result.receipts.append(item)
        elif isinstance(item, StoreAlert):
            result.alerts.append(item)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while streaming.

    Messages are acyclic and die young; with the default thresholds the collector wakes every
    700 allocations and costs a fifth of a replay. Reference counting still frees everything.
    """
    before = gc.get_threshold()
    gc.set_threshold(200_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def replay(
    folder: Path,
    engine_factory: Callable[[StoreLayout], ReceiptEngine] | None = None,
    config: EngineConfig | None = None,
    progress: Callable[[float], None] | None = None,
    keep_changes: bool = False,
) -> ReplayResult:
    """Run an engine over a recording and return its receipts (never reads truth.json).

    Args:
        folder: Recording folder (store.json + events.jsonl[.gz]).
        engine_factory: Builds the engine from the layout; the real engine by default.
        config: Engine configuration for the default engine.
        progress: Called now and then with the fraction of the events file read.
        keep_changes: Also keep every cart change (for explanations); costs memory.
    """
    folder = Path(folder)
    layout = read_store(folder)
    engine: ReceiptEngine = (
        Engine(layout, config) if engine_factory is None else engine_factory(layout)
    )
    result = ReplayResult()
    shelves = {sid: len(plates) for sid, plates in layout.shelves().items()}
    gates = {g.id for g in layout.gates}
    light = isinstance(engine, Engine)  # only the real engine takes weight lines as dicts
    batches = iter_message_batches(
        folder,
        on_error=result.rejected.append,
        known_shelves=shelves,
        known_gates=gates,
        progress=progress,
        light=light,
    )
    received = 0
    with _few_collections():
        if light and isinstance(engine, Engine):  # a batch a call: the same outputs
            feed_many = engine.feed_many
            for batch in batches:
                received += len(batch)
                outputs = feed_many(batch)
                if outputs:
                    _collect(result, outputs, keep_changes)
        else:
            feed = engine.feed
            for batch in batches:
                received += len(batch)
                for msg in batch:
                    got = feed(msg)  # type: ignore[arg-type]  # only models without ``light``
                    if got:
                        _collect(result, got, keep_changes)
    result.messages = received
    _collect(result, engine.finish(), keep_changes)
    if progress is not None:
        progress(1.0)
    result.receipts.sort(key=lambda r: r.account)
    return result
