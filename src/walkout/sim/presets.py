"""The named scenarios: data, not code. ``hard`` and ``scale`` are ``busy`` with overrides."""

from __future__ import annotations

from typing import Any

from walkout.sim.config import SimConfig


def variant(base: SimConfig, **changes: Any) -> SimConfig:
    """A validated copy of ``base`` with some knobs changed."""
    return SimConfig.model_validate({**base.model_dump(), **changes})


BUSY = SimConfig(
    store_id="sim-busy",
    floor_min_x_m=12.0,
    floor_min_y_m=8.0,
    accounts_per_minute=1.45,
    p_putback=0.25,
    p_wrong_plate=0.4,
)

EASY = variant(
    BUSY,
    store_id="sim-easy",
    default_minutes=5.0,
    n_shelves=6,
    n_products=30,
    floor_min_x_m=9.0,
    floor_min_y_m=7.0,
    straddlers=(0, 0),
    age_restricted=(2, 3),
    max_inside=1,
    accounts_per_minute=1.0,
    p_party=0.0,
    p_multi_unit=0.05,
    p_touch_only=0.0,
    p_putback=0.1,
    p_wrong_plate=0.0,
    p_pick_misplaced=0.0,
    p_crowd=0.0,
    press_g=(0.0, 0.0),
    ring_amplitude_g=(0.0, 0.0),
    ring_step_frac=0.0,
    neighbour_ring_g=(0.0, 0.0),
    pos_noise_m=0.05,
    p_hand_visible=1.0,
)

HARD = variant(
    BUSY,
    store_id="sim-hard",
    near_equal_neighbours=3,
    weight_offset_frac=0.08,
    loose_shelf_frac=0.2,
    loose_noise_sd_g=(2.0, 6.0),
    accounts_per_minute=1.6,
    max_inside=5,
    p_party=0.2,
    p_putback=0.25,
    p_wrong_plate=0.35,
    p_crowd=0.5,
    p_touch_only=0.08,
    press_g=(20.0, 80.0),
    ring_amplitude_g=(10.0, 40.0),
    neighbour_ring_g=(50.0, 150.0),
    shelf_ring_g=(30.0, 60.0),
    section_ring_g=(15.0, 60.0),
    section_ring_s=(8.0, 16.0),
    ring_hz=(9.0, 25.0),
    ring_s=(2.5, 5.0),
    loose_shake=5.0,
    shocks_per_min=20.0,
    shock_s=(0.4, 3.5),
    shock_g=(4.0, 15.0),
    p_shift=0.9,
    shift_g=(5.0, 20.0),
    max_shift_g=20.0,
    drift_g_per_min=3.5,
    time_jitter_ms=3.0,
    spikes_per_plate_hour=10.0,
    p_drop_value=0.002,
    p_drop_message=0.002,
    p_lean=0.12,
    pos_noise_m=0.08,
    hand_noise_m=0.02,
    p_hand_visible=0.85,
    p_reach_occluded=0.1,
    p_swap=0.3,
    look_noise_sd=0.5,
    look_alike_frac=0.15,
    lost_per_minute=0.5,
    p_late=0.1,
    p_duplicate=0.01,
)

SCALE = variant(
    BUSY,
    store_id="sim-scale",
    default_minutes=3.0,
    n_shelves=200,
    n_products=1100,
    sections_per_side=4,
    floor_min_x_m=0.0,
    floor_min_y_m=0.0,
    n_entry_gates=4,
    n_exit_gates=4,
    straddlers=(15, 25),
    age_restricted=(20, 30),
    max_inside=50,
    accounts_per_minute=60.0,
    stops=(2, 5),
    closing_s=60.0,
)

PRESETS: dict[str, SimConfig] = {"easy": EASY, "busy": BUSY, "hard": HARD, "scale": SCALE}
