"""Every knob of the simulator as one validated model, so a preset is plain data.

Ranges are ``(low, high)`` pairs; the simulator draws uniformly between them. A knob set to zero
switches its effect off, which is how the ``easy`` preset gets clean sensors.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

Range = tuple[float, float]
IntRange = tuple[int, int]


class SimConfig(BaseModel):
    """Store, shoppers, sensors and delivery of one simulated recording."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- run -------------------------------------------------------------------------------
    default_minutes: float = Field(10.0, gt=0, description="Length when the caller gives none.")
    store_id: str = Field("sim-store", description="store_id written to store.json.")

    # --- store layout ----------------------------------------------------------------------
    n_shelves: int = Field(10, ge=1, description="Shelves (rows of plates) in the store.")
    n_products: int = Field(60, ge=1, description="Products to place; capped by plate slots.")
    shelf_heights_m: list[float] = Field(
        default_factory=lambda: [0.4, 0.9, 1.4],
        min_length=1,
        description="Heights of the stacked shelves of one section, metres.",
    )
    plates_per_shelf: IntRange = Field((4, 6), description="Plates side by side on one shelf.")
    plate_width_m: Range = Field((0.3, 0.45), description="Plate width along the shelf.")
    plate_depth_m: float = Field(0.4, gt=0, description="Plate depth, shelf front to back.")
    sections_per_side: int = Field(
        1, ge=1, description="Shelf sections along one side of a gondola; more = longer aisles."
    )
    aisle_width_m: float = Field(1.8, gt=0.8, description="Minimum walkway between gondolas.")
    front_aisle_m: float = Field(2.5, gt=1.0, description="Open floor between gates and gondolas.")
    back_aisle_m: float = Field(1.6, gt=0.8, description="Cross aisle behind the gondolas.")
    floor_min_x_m: float = Field(10.0, ge=0, description="Smallest floor width (west-east).")
    floor_min_y_m: float = Field(7.0, ge=0, description="Smallest floor depth (south-north).")
    n_entry_gates: int = Field(1, ge=1, description="Entry gates on the south wall.")
    n_exit_gates: int = Field(1, ge=1, description="Exit gates on the south wall.")
    straddlers: IntRange = Field(
        (2, 4), description="Products standing across two neighbouring plates of a shelf."
    )
    age_restricted: IntRange = Field((3, 5), description="Age-restricted products (beer, wine).")
    near_equal_neighbours: int = Field(
        0, ge=0, description="Neighbouring plate pairs given products within 1-2% in weight."
    )
    weight_sd_frac: Range = Field(
        (0.01, 0.03), description="weight_sd_g as a fraction of the listed weight."
    )
    weight_offset_frac: float = Field(
        0.0,
        ge=0,
        le=0.1,
        description="Largest per-product systematic error of the listed weight (real units are "
        "heavier or lighter than the catalogue says).",
    )
    resolvable_sigmas: float = Field(
        3.0,
        ge=0,
        description="A plate's two skus must differ by more than this many sd for every "
        "k*w1 vs m*w2 (k, m <= 3); raising it makes planograms easier to decode.",
    )
    stock_per_plate: IntRange = Field((6, 15), description="Units on a one-sku plate at start.")
    stock_per_sku_shared: IntRange = Field((4, 8), description="Units per sku on shared plates.")
    straddle_split: Range = Field(
        (0.3, 0.7), description="Share of a straddling unit's weight on the first plate."
    )
    noise_sd_g: Range = Field((1.0, 2.0), description="Per-plate load-cell noise sd, grams.")
    loose_shelf_frac: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the shelves that sit loose in their gondola (at least one when "
        "above zero): their plates are noisier and they shake harder (``loose_shake``).",
    )
    loose_noise_sd_g: Range = Field(
        (2.0, 6.0), description="Noise sd of a loose shelf's plates, grams (store.json says so)."
    )
    sensor_rate_hz: float = Field(30.0, gt=0, description="Load-cell samples per second.")
    time_jitter_ms: float = Field(
        0.0,
        ge=0,
        le=10.0,
        description="A weight line's timestamp is off by up to this much, either way (the "
        "reading itself is of the nominal sample time).",
    )

    # --- shoppers ----------------------------------------------------------------------------
    accounts_per_minute: float = Field(1.3, gt=0, description="Arrival rate of accounts.")
    max_inside: int = Field(4, ge=1, description="Most persons in the store at once.")
    p_party: float = Field(0.15, ge=0, le=1, description="An account scans twice (two persons).")
    scan_to_gate_s: Range = Field((0.5, 2.5), description="Delay from scan to walking through.")
    walk_speed_mps: Range = Field((0.8, 1.4), description="Walking speed of a person.")
    stops: IntRange = Field((2, 6), description="Shelf stops per person.")
    p_take_nothing: float = Field(
        0.1, ge=0, le=1, description="An account only browses: it walks and looks, takes nothing."
    )
    dwell_s: Range = Field((0.5, 2.5), description="Standing before a reach.")
    reach_s: Range = Field((1.0, 3.0), description="Hand inside a plate during one reach.")
    stand_distance_m: Range = Field(
        (0.3, 0.5), description="Where a person stands in front of the shelf's front edge."
    )
    p_multi_unit: float = Field(0.12, ge=0, le=1, description="A reach takes 2-3 units.")
    p_touch_only: float = Field(
        0.05, ge=0, le=1, description="A reach that touches a plate and takes nothing."
    )
    p_putback: float = Field(
        0.2, ge=0, le=1, description="At a stop, a carried unit is put back instead of a pick."
    )
    p_wrong_plate: float = Field(
        0.3, ge=0, le=1, description="A put-back lands on a plate it does not belong to."
    )
    p_pick_misplaced: float = Field(
        0.3, ge=0, le=1, description="A pick goes for a misplaced unit when one exists."
    )
    p_crowd: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A stop joins a shelf another person reaches into, within 1 s of them.",
    )
    stand_gap_m: float = Field(
        0.0,
        ge=0,
        description="Closest two standing shoppers' body centres get, metres: a shopper steps "
        "sideways along the shelf (see ``behaviour.SIDESTEP_M``) to keep this far from where "
        "everyone else inside stands or is headed. 0: no spacing, recordings as before it existed.",
    )
    closing_s: float = Field(
        40.0, ge=0, description="Shoppers head out this long before the end of the recording."
    )

    # --- load-cell physics ---------------------------------------------------------------------
    step_ramp_s: float = Field(0.15, gt=0, description="Time a lift or placement takes on a cell.")
    press_g: Range = Field((10.0, 40.0), description="Hand press bump on the touched plate.")
    ring_amplitude_g: Range = Field(
        (5.0, 20.0), description="Damped ringing on the touched plate at a lift or placement."
    )
    ring_step_frac: float = Field(
        0.15, ge=0, description="Extra touched-plate ringing as a share of the step."
    )
    neighbour_ring_g: Range = Field(
        (10.0, 40.0), description="Ringing on the neighbouring plates of a touched shelf."
    )
    section_ring_g: Range = Field(
        (0.0, 0.0),
        description="Vibration on every plate of the shelves stacked above and below a touched "
        "one (the gondola shakes; nothing is taken there).",
    )
    shelf_ring_g: Range = Field(
        (0.0, 0.0),
        description="Ringing on the other (not neighbouring) plates of a touched shelf.",
    )
    ring_hz: Range = Field(
        (2.0, 6.0),
        description="Ringing frequency; above half the sensor rate it aliases, as on real cells.",
    )
    ring_s: Range = Field((1.0, 2.0), description="How long ringing lasts.")
    section_ring_s: Range = Field(
        (1.0, 2.0),
        description="How long the stacked shelves of a touched one vibrate (the gondola sways "
        "longer than one shelf rings).",
    )
    loose_shake: float = Field(
        1.0,
        ge=1,
        description="How many times harder a loose shelf moves than a firm one, in store-wide "
        "shocks and when a stacked shelf is touched.",
    )
    shocks_per_min: float = Field(
        0.0,
        ge=0,
        description="Store-wide shocks (the floor or the fixtures shaking: every plate vibrates "
        "at once, nothing is taken) per minute while anyone is inside.",
    )
    shock_s: Range = Field((0.3, 3.5), description="How long a store-wide shock lasts.")
    shock_g: Range = Field(
        (2.5, 10.0), description="Peak vibration of a firm plate in a store-wide shock, grams."
    )
    shock_hz: Range = Field((9.0, 25.0), description="Vibration frequency of a shock.")
    p_shift: float = Field(
        0.0,
        ge=0,
        le=1,
        description="A reach leaves untouched plates of its shelf resting a little heavier or "
        "lighter for good (the plate settles on its mount); not an action, not in the truth.",
    )
    shift_g: Range = Field((5.0, 20.0), description="Size of one lasting shift, grams.")
    max_shift_g: float = Field(
        20.0, ge=0, description="Most a plate's lasting shifts add up to, either sign, grams."
    )
    drift_g_per_min: float = Field(
        0.0, ge=0, description="Slow load-cell drift (mean-reverting walk), sd after a minute."
    )
    spikes_per_plate_hour: float = Field(0.0, ge=0, description="Single-sample spikes.")
    spike_g: Range = Field((200.0, 800.0), description="Spike size, either sign.")
    p_drop_value: float = Field(0.0, ge=0, le=0.2, description="A single reading is null.")
    p_drop_message: float = Field(0.0, ge=0, le=0.2, description="A whole weight line is lost.")
    p_lean: float = Field(0.0, ge=0, le=1, description="A person leans on the shelf at a stop.")
    lean_g: Range = Field((30.0, 200.0), description="Peak extra pressure of a lean.")
    lean_s: Range = Field((2.0, 6.0), description="How long a lean lasts.")

    # --- cameras --------------------------------------------------------------------------
    camera_rate_hz: float = Field(10.0, gt=0, description="Track frames per second.")
    pos_noise_m: float = Field(0.06, ge=0, description="Position noise sd per axis.")
    hand_noise_m: float = Field(0.015, ge=0, description="Hand point noise sd per axis.")
    p_hand_visible: float = Field(0.95, ge=0, le=1, description="A hand is seen in a frame.")
    p_reach_occluded: float = Field(
        0.0, ge=0, le=1, description="The reaching hand is hidden for a whole reach."
    )
    swap_distance_m: float = Field(0.6, gt=0, description="Close pass that may swap track ids.")
    p_swap: float = Field(0.0, ge=0, le=1, description="A close pass while moving swaps ids.")
    look_dims: int = Field(
        8,
        ge=0,
        le=64,
        description="Length of the appearance descriptor (``look``) the camera system sends "
        "with each track frame, as a re-identification model would (0: none). People's looks "
        "are spread with sd 1 per value.",
    )
    look_noise_sd: float = Field(
        0.3, ge=0, description="Frame-to-frame noise of a look, per value (lighting, pose)."
    )
    look_alike_frac: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of people dressed like someone else who comes in: their look is "
        "that person's plus ``look_alike_sd`` per value.",
    )
    look_alike_sd: float = Field(0.3, ge=0, description="How unlike a look-alike is.")
    lost_per_minute: float = Field(0.0, ge=0, description="Track losses per person-minute.")
    lost_s: Range = Field((0.3, 3.0), description="Gap before a lost track comes back.")

    # --- delivery -------------------------------------------------------------------------
    p_late: float = Field(0.0, ge=0, le=1, description="A line is delivered late.")
    max_late_s: float = Field(0.5, ge=0, le=2.0, description="Most a line is delivered late.")
    p_duplicate: float = Field(0.0, ge=0, le=0.5, description="A line is delivered twice.")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> SimConfig:
        for name, value in self:
            if isinstance(value, tuple) and len(value) == 2 and value[0] > value[1]:
                raise ValueError(f"{name}: low {value[0]} is above high {value[1]}")
            if isinstance(value, tuple) and any(v < 0 for v in value):
                raise ValueError(f"{name}: negative bound in {value}")
        if self.p_shift > 0 and self.shift_g[1] > self.max_shift_g:
            raise ValueError(f"shift_g: high {self.shift_g[1]} is above max_shift_g")
        if self.plates_per_shelf[0] < 2 and self.straddlers[1] > 0:
            raise ValueError("straddling products need shelves of at least 2 plates")
        return self
