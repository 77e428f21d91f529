"""Group commit: payloads that come a few milliseconds apart share one log transaction.

Every commit is an fsync, and a store's shelves and cameras send a few hundred small payloads a
second; the ingestor waits ``commit_linger_s`` for more before committing a small batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from tests.engine.scenes import Scene, small_store
from tests.service.conftest import Harness

from walkout.recording.models import WeightMsg
from walkout.service import db


def test_payloads_a_few_ms_apart_share_one_commit_and_keep_their_order(
    make_service: Callable[..., Harness],
) -> None:
    service = make_service(commit_linger_s=0.5)
    store = service.store
    readings = [m for m in Scene(small_store()).build(1.0) if isinstance(m, WeightMsg)][:20]
    futures = []
    for reading in readings:  # one payload each, 5 ms apart: within one linger
        futures.append(store.submit([reading], "device:test"))
        time.sleep(0.005)
    seqs = [f.result(timeout=10)[0] for f in futures]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(readings)  # each logged, in order
    with store.db.connect() as conn:
        rows = conn.execute(
            select(db.messages.c.seq, db.messages.c.received_at, db.messages.c.t).where(
                db.messages.c.seq.in_(seqs)
            )
        ).all()
    assert [t for _, _, t in sorted(rows)] == [m.t for m in readings]
    commits = {at for _, at, _ in rows}
    assert len(commits) <= 2  # one transaction, or two if the first came alone


def test_with_no_linger_a_lone_payload_is_committed_at_once(
    make_service: Callable[..., Harness],
) -> None:
    service = make_service(commit_linger_s=0.0)
    reading = next(m for m in Scene(small_store()).build(0.2) if isinstance(m, WeightMsg))
    began = time.monotonic()
    service.store.submit([reading], "device:test").result(timeout=10)
    assert time.monotonic() - began < 0.4  # a linger of 0.5 s would have held it
