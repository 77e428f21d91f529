"""The service's long-lived start-up heap, kept out of the cyclic garbage collector's way.

Why: a full (generation 2) collection walks every tracked object, and most of them are the
modules, layout and tables loaded at start (numpy, scipy, pydantic, SQLAlchemy: about 130,000
objects) that never become garbage. Replaying a 10-minute live log (``python bench/live_lag.py
WORKDIR --no-freeze``), 230 full collections took a median 120 ms each (max 176 ms), about 28 s
in all, each a pause of the ingestor that an exit arriving then waited out. Frozen (the same
without ``--no-freeze``), as many took a median 23 ms (max 83 ms).
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
