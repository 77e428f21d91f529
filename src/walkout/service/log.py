"""The durable, append-only message log: the one source every derived state is rebuilt from."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from walkout.recording.files import validate_line
from walkout.recording.models import MESSAGE_ADAPTER, TrackMsg, WeightMsg
from walkout.service import db
from walkout.service.messages import CLOCK_TYPE, ClockTick, LoggedMessage

READ_CHUNK = 20_000
"""Rows read per query while replaying, so memory stays flat however long the log is."""


class MessageLog:
    """Appends batches in one transaction each; seqs are dense and assigned here.

    There is exactly one writer (the ingestor thread), so seqs are counted in memory instead of
    asking the database for each row, which lets a batch go in as one executemany.
    """

    def __init__(self, engine: Engine) -> None:
        self.db = engine
        with engine.connect() as conn:
            last = conn.execute(select(func.max(db.messages.c.seq))).scalar()
        self.next_seq = int(last or 0) + 1

    def __len__(self) -> int:
        return self.next_seq - 1

    def append(
        self,
        batch: Sequence[tuple[LoggedMessage, str]],
        bodies: Sequence[bytes | None] | None = None,
    ) -> list[int]:
        """Write (message, source) pairs in one transaction; durable when this returns.

        ``bodies[i]``, where given, is message i's ``model_dump_json()`` already made."""
        if not batch:
            return []
        now = time.time()
        first = self.next_seq
        rows = [
            {
                "seq": first + i,
                "t": msg.t,
                "type": msg.type,
                "source": source[:200],
                "received_at": now,
                "body": msg.model_dump_json().encode() if body is None else body,
            }
            for i, ((msg, source), body) in enumerate(
                zip(batch, bodies or [None] * len(batch), strict=True)
            )
        ]
        with self.db.begin() as conn:
            conn.execute(insert(db.messages), rows)
        self.next_seq = first + len(rows)
        return list(range(first, self.next_seq))

    def newest(self) -> tuple[float, float] | None:
        """The newest store time a device sent and the wall time it arrived (None: none yet)."""
        m = db.messages.c
        with self.db.connect() as conn:
            row = conn.execute(
                select(m.t, m.received_at).where(m.type != CLOCK_TYPE).order_by(m.t.desc()).limit(1)
            ).first()
        return None if row is None else (float(row[0]), float(row[1]))

    def iter_from(self, seq: int = 1) -> Iterator[tuple[int, LoggedMessage]]:
        """Every logged message from ``seq`` on, in log order (the engine's feed order)."""
        validate = validate_line  # the union's result, weight lines by their model's own path
        cols = (db.messages.c.seq, db.messages.c.body, db.messages.c.type)
        while True:
            with self.db.connect() as conn:
                rows = conn.execute(
                    select(*cols)
                    .where(db.messages.c.seq >= seq)
                    .order_by(db.messages.c.seq)
                    .limit(READ_CHUNK)
                ).all()
            for row_seq, body, kind in rows:
                if kind == CLOCK_TYPE:
                    yield int(row_seq), ClockTick.model_validate_json(body)
                else:
                    yield int(row_seq), validate(body)
            if len(rows) < READ_CHUNK:
                return
            seq = int(rows[-1][0]) + 1

    def weights(self, shelf: str, t0: float, t1: float) -> list[WeightMsg]:
        """One shelf's readings between two store times, in time order (for trace pictures)."""
        m = db.messages.c
        with self.db.connect() as conn:
            rows = conn.execute(
                select(m.body).where(m.type == "weight", m.t >= t0, m.t <= t1).order_by(m.t, m.seq)
            ).all()
        out = []
        for (body,) in rows:
            msg = MESSAGE_ADAPTER.validate_json(body)
            if isinstance(msg, WeightMsg) and msg.shelf == shelf:
                out.append(msg)
        return out

    def tracks(self, t0: float, t1: float) -> list[TrackMsg]:
        """Every track message between two store times, in time order (for trace pictures)."""
        m = db.messages.c
        with self.db.connect() as conn:
            rows = conn.execute(
                select(m.body).where(m.type == "track", m.t >= t0, m.t <= t1).order_by(m.t, m.seq)
            ).all()
        msgs = (MESSAGE_ADAPTER.validate_json(body) for (body,) in rows)
        return [msg for msg in msgs if isinstance(msg, TrackMsg)]
