"""Store simulator: writes realistic recordings (store.json, events.jsonl) with their truth."""

from walkout.sim.config import SimConfig
from walkout.sim.presets import PRESETS
from walkout.sim.simulate import SimSummary, simulate, simulate_config

__all__ = ["PRESETS", "SimConfig", "SimSummary", "simulate", "simulate_config"]
