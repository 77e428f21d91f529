"""Store simulator: writes realistic recordings (store.json, events.jsonl) with their truth.

``simulate(outdir, preset, seed, minutes, layout, gzip_events, progress)`` writes one recording
folder in the spec's format; the same seed and preset give byte-identical files. ``PRESETS``
holds the named scenarios ("easy", "busy", "hard", "scale") as ``SimConfig`` data.

truth.json holds the spec's ``receipts`` plus two optional lists for diagnosis:

- ``events``: one entry per true shelf action, in time order. ``t`` is the middle of the load
  change; ``kind`` is "pick" or "putback"; ``qty`` is signed (+n pick, -n put-back), so summing
  ``qty`` per account and sku gives the receipt; ``plate`` is where the hand went, ``plates``
  and ``delta_g`` the plates whose load changed and by how much (two for a straddling unit on
  its home pair); ``sku`` is the real product (charge it even when picked from a wrong plate);
  ``unit_ids`` / ``unit_weights_g`` name the physical units and their own full weights;
  ``misplaced`` says the sku is not in the planogram of ``plate``; ``reach`` is (t0, t1) of the
  hand on the plate.
- ``persons``: who walked in, for which account, through which gates and when, and the track
  ids the cameras gave them over time (``tracks``: id, t0, t1).
"""

from walkout.sim.config import SimConfig
from walkout.sim.presets import PRESETS, variant
from walkout.sim.simulate import SimSummary, simulate, simulate_config

SIM_REVISION = 2
"""Bumped whenever the same seed starts giving different recordings (2: tracks carry looks),
so that caches of simulated recordings (bench/) know to make them again."""

__all__ = [
    "PRESETS",
    "SIM_REVISION",
    "SimConfig",
    "SimSummary",
    "simulate",
    "simulate_config",
    "variant",
]
