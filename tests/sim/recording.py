"""A simulated recording read back, with helpers for assertions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from walkout.recording.files import iter_messages, read_store
from walkout.recording.models import StoreLayout


class Recording:
    """A simulated folder with its parsed store, messages and truth, for assertions."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store: StoreLayout = read_store(folder)
        self.rejected: list[object] = []
        shelves = {k: len(v) for k, v in self.store.shelves().items()}
        gates = {g.id for g in self.store.gates}
        self.messages = list(iter_messages(folder, self.rejected.append, shelves, gates))
        self.truth: dict[str, Any] = json.loads((folder / "truth.json").read_text())

    def plate(self, plate_id: str) -> tuple[str, int]:
        """Shelf of a plate and its index in that shelf's readings."""
        for shelf, plates in self.store.shelves().items():
            for i, p in enumerate(plates):
                if p.id == plate_id:
                    return shelf, i
        raise KeyError(plate_id)

    def signal(self, plate_id: str, t0: float, t1: float) -> list[float]:
        """Readings of one plate with t0 <= t < t1 (dropped values left out)."""
        shelf, i = self.plate(plate_id)
        return [
            m.g[i]
            for m in self.messages
            if m.type == "weight" and m.shelf == shelf and t0 <= m.t < t1 and m.g[i] is not None
        ]
