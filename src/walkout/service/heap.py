"""The service's long-lived start-up heap, kept out of the cyclic garbage collector's way.

Why: a full (generation 2) collection walks every tracked object, and most of them are the
modules, layout and tables loaded at start (numpy, scipy, pydantic, SQLAlchemy: about 130,000
objects) that never become garbage. Replaying a live run's log through the engine, such a
collection came every 2.5 s of store time and took 75-185 ms, freeing nothing; each was a pause
of the ingestor that an exit arriving then waited out. Frozen, they are left out: in the same
replay, far fewer and shorter full collections (``python bench/live_lag.py WORKDIR``, which
replays with the service's freeze, prints them; ``--no-freeze`` without).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then move every object alive now to the permanent generation (never
    scanned again; reference counting still frees them). Call once start-up is done, before
    the store's own state grows. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
