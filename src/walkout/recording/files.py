"""Reading and writing recording folders, with errors that name the file and line.

A recording is read as a stream: ``iter_messages`` yields one validated message at a time, so
memory does not grow with the length of the recording. A malformed line is not fatal: it is
reported to the caller's ``on_error`` (which logs it) and skipped, so nothing accepted is lost.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson
from pydantic import ValidationError

from walkout.recording.models import (
    MESSAGE_ADAPTER,
    WEIGHT_LINE_ADAPTER,
    EntryMsg,
    ExitMsg,
    ReceiptsFile,
    StoreLayout,
    TrackMsg,
    Truth,
    WeightLine,
    WeightMsg,
)

log = logging.getLogger(__name__)

AnyMessage = WeightMsg | EntryMsg | TrackMsg | ExitMsg


class RecordingError(Exception):
    """A recording cannot be used; the message names the file (and line) and what is wrong."""


@dataclass(frozen=True, slots=True)
class LineError:
    """One rejected line of events.jsonl."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def read_store(folder: Path) -> StoreLayout:
    """Load and validate ``store.json`` of a recording folder."""
    path = Path(folder) / "store.json"
    if not Path(folder).is_dir():
        raise RecordingError(f"{folder}: not a recording folder (no such directory)")
    if not path.is_file():
        raise RecordingError(f"{path}: missing; every recording needs a store.json")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return StoreLayout.model_validate(raw)
    except ValidationError as exc:
        raise RecordingError(f"{path}: {_describe(exc)}") from exc


def events_path(folder: Path) -> Path:
    """The events file of a recording: ``events.jsonl`` or ``events.jsonl.gz``, not both."""
    plain = Path(folder) / "events.jsonl"
    packed = Path(folder) / "events.jsonl.gz"
    if plain.is_file() and packed.is_file():
        raise RecordingError(f"{folder}: holds both events.jsonl and events.jsonl.gz")
    if plain.is_file():
        return plain
    if packed.is_file():
        return packed
    raise RecordingError(f"{folder}: missing events.jsonl (or events.jsonl.gz)")


def _wrap(raw: IO[bytes], path: Path) -> IO[bytes]:
    """The lines of an events file, decompressed where it is gzip (named ``.gz``)."""
    if path.suffix == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return contextlib.nullcontext(raw)  # type: ignore[return-value]


_validate_any: Callable[[bytes | str], AnyMessage] = MESSAGE_ADAPTER.validator.validate_json
_validate_weight: Callable[[bytes | str], WeightMsg] = (
    WeightMsg.__pydantic_validator__.validate_json
)
_validate_weight_line: Callable[[bytes | str], WeightLine] = (
    WEIGHT_LINE_ADAPTER.validator.validate_json
)


def validate_line(raw: bytes | str) -> AnyMessage:
    """Validate one JSON line into its message; raises pydantic's ``ValidationError``.

    Weight lines, nearly all of a store's feed, go straight to the weight model's validator.
    When it accepts a line that names its type, the type is "weight", and the tagged union
    would have built the very same message, only slower. Anything else (a line without a
    type would pass the weight model by its default) goes to the union, which also gives the
    reasons for a bad line. The validators are called directly, not through
    ``TypeAdapter.validate_json``, whose Python wrapper costs a fifth of the parse.
    """
    looks_like_weight = b'"weight"' in raw if isinstance(raw, bytes) else '"weight"' in raw
    if looks_like_weight:
        try:
            msg = _validate_weight(raw)
        except ValidationError:
            pass
        else:
            if "type" in msg.model_fields_set:
                return msg
    return _validate_any(raw)


def parse_message(raw: bytes | str) -> AnyMessage:
    """Validate one message (a JSON object); raises ``ValueError`` with a readable reason."""
    try:
        return validate_line(raw)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from exc


READ_BLOCK = 1 << 14
"""Bytes read (after decompression) per block: lines are split out of blocks, not read one by
one (``GzipFile.readline`` alone cost as much as validating the line). Small blocks (about 150
lines) keep a batch's messages in the CPU's cache: 256 KiB blocks made parsing 1.8x slower."""


PROGRESS_EVERY = 5000
"""Lines read between calls of ``progress`` (a progress bar's update costs more than a line)."""


def _numbered_lines(fh: IO[bytes]) -> Iterator[tuple[int, list[bytes], bool]]:
    """The lines of a file in blocks: (number of the block's first line, its lines without
    their newlines, whether the last of them ended the file without a newline)."""
    number = 1
    rest = b""
    while True:
        block = fh.read(READ_BLOCK)
        if not block:
            break
        lines = (rest + block).split(b"\n") if rest else block.split(b"\n")
        rest = lines.pop()  # the part after the last newline: the start of the next line
        if lines:
            yield number, lines, False
            number += len(lines)
    if rest:
        yield number, [rest], True


def iter_message_batches(
    folder: Path,
    on_error: Callable[[LineError], None] | None = None,
    known_shelves: dict[str, int] | None = None,
    known_gates: set[str] | None = None,
    progress: Callable[[float], None] | None = None,
    light: bool = False,
) -> Iterator[list[AnyMessage | WeightLine]]:
    """The validated messages of a recording in delivery order, a few thousand at a time.

    Arguments as ``iter_messages``. A batch per block of the file, not a message at a time:
    a generator's step per message cost as much as the engine's own work on a weight line.
    """
    path = events_path(folder)
    report = on_error or (lambda err: log.warning("rejected %s", err))
    size = max(path.stat().st_size, 1)
    validate = validate_line
    validate_weight_line = _validate_weight_line
    shelves = known_shelves
    next_progress = PROGRESS_EVERY
    with path.open("rb") as raw_fh, _wrap(raw_fh, path) as fh:
        for first, lines, unterminated in _numbered_lines(fh):
            batch: list[AnyMessage | WeightLine] = []
            append = batch.append
            for number, raw in enumerate(lines, start=first):
                if light and b'"weight"' in raw:
                    try:
                        line = validate_weight_line(raw)
                    except ValidationError:
                        pass  # read again below, for the reason
                    else:
                        if shelves is None or shelves.get(line["shelf"]) == len(line["g"]):
                            append(line)
                            continue
                try:
                    msg = validate(raw)
                except ValidationError:
                    if raw.strip():
                        # again as the line was read before blocks, with its newline, so
                        # that the reason (a JSON error's line and column) is the same
                        whole = raw if unterminated else raw + b"\n"
                        try:
                            validate(whole)
                        except ValidationError as exc:
                            report(LineError(path, number, _describe(exc)))
                    continue
                # the common case first: a weight line of a known shelf with the right length
                if (
                    type(msg) is WeightMsg
                    and shelves is not None
                    and shelves.get(msg.shelf) == len(msg.g)
                ):
                    append(msg)
                    continue
                reason = check_references(msg, shelves, known_gates)
                if reason:
                    report(LineError(path, number, reason))
                    continue
                append(msg)
            if progress is not None and first + len(lines) > next_progress:
                next_progress += PROGRESS_EVERY  # every few thousand lines, as documented
                progress(min(1.0, raw_fh.tell() / size))
            if batch:
                yield batch


def iter_messages(
    folder: Path,
    on_error: Callable[[LineError], None] | None = None,
    known_shelves: dict[str, int] | None = None,
    known_gates: set[str] | None = None,
    progress: Callable[[float], None] | None = None,
    light: bool = False,
) -> Iterator[AnyMessage | WeightLine]:
    """Yield the validated messages of a recording in delivery order.

    Args:
        folder: The recording folder.
        on_error: Called with each rejected line; by default the line is logged as a warning.
        known_shelves: Shelf id to plate count; a weight line naming another shelf, or with the
            wrong number of readings, is rejected.
        known_gates: Gate ids; entry/exit lines naming another gate are rejected.
        progress: Called every few thousand lines with the fraction of the file read.
        light: Yield well-formed weight lines of known shelves as ``WeightLine`` dicts, not
            models (the engine takes both; a dict is cheaper to build and to read). Any other
            line, and a weight line the dict does not take, is read as without it, so rejected
            lines get the same reasons.
    """
    for batch in iter_message_batches(
        folder, on_error, known_shelves, known_gates, progress, light
    ):
        yield from batch


def check_references(
    msg: AnyMessage, known_shelves: dict[str, int] | None, known_gates: set[str] | None
) -> str | None:
    """Why a well-formed message does not fit the store (unknown shelf or gate), or None."""
    if isinstance(msg, WeightMsg) and known_shelves is not None:
        expected = known_shelves.get(msg.shelf)
        if expected is None:
            return f"unknown shelf {msg.shelf!r}"
        if len(msg.g) != expected:
            return f"shelf {msg.shelf!r} has {expected} plates, got {len(msg.g)} readings"
    elif (
        isinstance(msg, EntryMsg | ExitMsg)
        and known_gates is not None
        and msg.gate not in known_gates
    ):
        return f"unknown gate {msg.gate!r}"
    return None


def read_truth(folder: Path) -> Truth:
    """Load ``truth.json`` (evaluation only; the engine never calls this)."""
    path = Path(folder) / "truth.json"
    if not path.is_file():
        raise RecordingError(f"{path}: missing; evaluation needs the recording's truth")
    try:
        return Truth.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise RecordingError(f"{path}: {_describe(exc)}") from exc


def read_receipts(path: Path) -> ReceiptsFile:
    """Load a receipts file written by ``replay``."""
    try:
        return ReceiptsFile.model_validate_json(Path(path).read_bytes())
    except (ValidationError, OSError) as exc:
        raise RecordingError(f"{path}: {exc}") from exc


class EventsWriter:
    """Append messages to events.jsonl(.gz) as compact JSON lines."""

    def __init__(self, path: Path) -> None:
        # held open across writes and closed by close() or the context manager
        self._fh: IO[bytes] = (
            gzip.GzipFile(path, "wb", mtime=0) if path.suffix == ".gz" else path.open("wb")
        )

    def write(self, message: dict[str, object]) -> None:
        self._fh.write(orjson.dumps(message) + b"\n")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> EventsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_store(folder: Path, store: StoreLayout) -> None:
    (Path(folder) / "store.json").write_text(
        store.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8"
    )


def write_truth(folder: Path, truth: Truth) -> None:
    (Path(folder) / "truth.json").write_text(truth.model_dump_json(indent=1) + "\n", "utf-8")
