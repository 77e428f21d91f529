"""Parsing live payloads into spec messages, with errors that say what is wrong and where."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import orjson
from pydantic import BaseModel, ValidationError

from walkout.recording.files import AnyMessage, check_references
from walkout.recording.models import MESSAGE_ADAPTER, StoreLayout


class ClockTick(BaseModel):
    """The service's own log line: store time reached ``t`` with no message to show it.

    Not a spec message and never accepted from a device. Logged like one, so a rebuild from
    the log moves the engine's clock exactly where the live run moved it."""

    type: Literal["clock"] = "clock"
    t: float


CLOCK_TYPE = "clock"
"""The log's ``type`` of a ``ClockTick`` line."""


LoggedMessage = AnyMessage | ClockTick
"""What the log holds: the spec's messages, and the service's clock ticks."""


class MessageError(ValueError):
    """A payload (or one item of it) that cannot be accepted.

    ``where`` names the source and position (``http:device-1[3]``, an MQTT topic); ``what``
    says what is wrong in terms of the spec's fields.
    """

    def __init__(self, where: str, what: str, raw: bytes = b"") -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what
        self.raw = raw  # the offending item, for the dead-letter record


@dataclass(slots=True)
class ParsedBatch:
    """The good messages of a payload, and one error per bad item (with its index)."""

    messages: list[AnyMessage] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # position in the payload of each message
    errors: list[tuple[int, MessageError]] = field(default_factory=list)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


class StoreClock:
    """The newest store time logged, and the wall time it arrived: the yardstick for ``t``.

    One device with a wrong clock (a ``t`` hours ahead) would move the engine's clock and make
    every later message of every device too late; since the log is replayed on start, the store
    would stay broken. So a message may be ahead of the newest logged time only by the wall
    time that has passed since, plus ``max_ahead_s`` (a store closed overnight still reopens).
    """

    def __init__(self, max_ahead_s: float) -> None:
        self.max_ahead_s = max_ahead_s
        self.newest_t: float | None = None
        self.newest_wall = 0.0
        self._lock = threading.Lock()

    def advance(self, t: float, wall: float) -> None:
        with self._lock:
            if self.newest_t is None or t > self.newest_t:
                self.newest_t, self.newest_wall = t, wall

    def state(self) -> tuple[float, float] | None:
        """(newest store time, the wall time it arrived), or None before any message."""
        with self._lock:
            return None if self.newest_t is None else (self.newest_t, self.newest_wall)

    def quiet_for(self, wall: float) -> tuple[float, float] | None:
        """(newest store time, wall seconds since it arrived), or None before any message."""
        with self._lock:
            if self.newest_t is None:
                return None
            return self.newest_t, wall - self.newest_wall

    def check(self, t: float) -> str | None:
        """Why ``t`` is too far ahead to be believed, or None."""
        with self._lock:
            newest, wall = self.newest_t, self.newest_wall
        if newest is None:
            return None
        allowed = newest + max(time.time() - wall, 0.0) + self.max_ahead_s
        if t <= allowed:
            return None
        return (
            f"t={t:.3f} is {t - newest:.1f} s ahead of the store clock (newest t={newest:.3f}); "
            "is this device's clock right?"
        )


class Checker:
    """Checks that a well-formed message fits the store (known shelf with its plate count,
    known gate; with a clock, a believable ``t``), so that nothing the engine cannot use
    reaches the log."""

    def __init__(self, layout: StoreLayout, clock: StoreClock | None = None) -> None:
        self.shelves = {sid: len(plates) for sid, plates in layout.shelves().items()}
        self.gates = {g.id for g in layout.gates}
        self.clock = clock

    def __call__(self, msg: AnyMessage) -> str | None:
        reason = check_references(msg, self.shelves, self.gates)
        if reason is None and self.clock is not None:
            reason = self.clock.check(msg.t)
        return reason


def parse_batch(data: bytes, where: str, checker: Checker | None = None) -> ParsedBatch:
    """Parse one spec message or a JSON array of them; bad items are reported, not fatal."""
    out = ParsedBatch()
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        out.errors.append((0, MessageError(where, f"not valid JSON: {exc}", data)))
        return out
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        item_where = f"{where}[{i}]" if isinstance(raw, list) else where
        if not isinstance(item, dict):
            what = f"expected a JSON object, got {type(item).__name__}"
            out.errors.append((i, MessageError(item_where, what, orjson.dumps(item))))
            continue
        try:
            msg = MESSAGE_ADAPTER.validate_python(item)
        except ValidationError as exc:
            what = _describe(exc)
            out.errors.append((i, MessageError(item_where, what, orjson.dumps(item))))
            continue
        reason = checker(msg) if checker is not None else None
        if reason:
            out.errors.append((i, MessageError(item_where, reason, orjson.dumps(item))))
            continue
        out.messages.append(msg)
        out.indexes.append(i)
    return out


def parse_payload(data: bytes, where: str, checker: Checker | None = None) -> list[AnyMessage]:
    """Parse a payload that must be wholly good; raises ``MessageError`` naming every bad item."""
    batch = parse_batch(data, where, checker)
    if batch.errors:
        if len(batch.errors) == 1:
            raise batch.errors[0][1]
        what = "; ".join(str(e) for _, e in batch.errors)
        raise MessageError(where, f"{len(batch.errors)} bad items: {what}")
    return batch.messages
