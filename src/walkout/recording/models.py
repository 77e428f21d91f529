"""Validated models of the store recording format (``shared/spec/recording-v1.md``).

These are the edge of the system: everything read from a file or a live feed passes through
them, so a malformed message is caught here with a message that says what is wrong, and the
engine behind them only ever sees well-formed, typed objects.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from typing_extensions import TypedDict

FORMAT_ID = "walkout-recording/1"

Point2 = tuple[float, float]
Point3 = tuple[float, float, float]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    """Base for layout models: immutable; unknown fields ignored (the spec allows extras)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Product(_Strict):
    sku: str = Field(min_length=1, description="Product code, unique in the store.")
    name: str = ""
    price: Decimal = Field(description="Unit price as a decimal string in the store currency.")
    weight_g: float = Field(gt=0, description="Listed unit weight in grams.")
    weight_sd_g: float = Field(
        default=0.0, ge=0, description="Spread of unit weights around the listed weight."
    )
    age_restricted: bool = False


class Plate(_Strict):
    id: str = Field(min_length=1)
    shelf: str = Field(min_length=1)
    center: Point3 = Field(description="Middle of the plate's top surface, metres.")
    size: Point2 = Field(description="[width along the shelf, depth], metres.")
    facing: Point2 = Field(description="Unit vector on the floor from the shelf to the aisle.")
    skus: list[str] = Field(default_factory=list, description="Planogram: 0-2 products.")
    noise_sd_g: float = Field(default=1.5, ge=0)


class Gate(_Strict):
    id: str = Field(min_length=1)
    kind: Literal["entry", "exit"]
    center: Point2
    width: float = Field(gt=0)


class Camera(_Strict):
    """One fixed ceiling camera, calibrated to the floor (optional ``cameras`` of store.json).

    A pinhole model without lens distortion: the camera sits at ``position`` looking straight
    down when ``pitch_deg`` is 0; ``yaw_deg`` turns it about the vertical so that the top of its
    image faces ``yaw_deg`` counter-clockwise from north (+y).
    """

    id: str = Field(min_length=1)
    position: Point3 = Field(description="Optical centre [x, y, z], metres.")
    yaw_deg: float = Field(0.0, description="Turn about the vertical; 0 puts north at the top.")
    pitch_deg: float = Field(
        0.0, ge=-60, le=60, description="Tilt from straight down about the image's x axis."
    )
    intrinsics: tuple[float, float, float, float] = Field(
        description="[fx, fy, cx, cy] in pixels (focal lengths and principal point)."
    )
    resolution: tuple[int, int] = Field(description="[width, height] of a frame in pixels.")
    fps: float = Field(10.0, gt=0, description="Frames per second.")

    @field_validator("intrinsics")
    @classmethod
    def _positive_focal(
        cls, value: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={value[0]}, fy={value[1]}")
        return value

    @field_validator("resolution")
    @classmethod
    def _positive_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError(f"resolution must be positive, got {value}")
        return value


class StoreLayout(_Strict):
    """store.json: the store's products, plates and gates (and, optionally, its cameras)."""

    format: str = FORMAT_ID
    store_id: str = "store"
    currency: str = "USD"
    products: list[Product]
    plates: list[Plate]
    gates: list[Gate]
    sensor_rate_hz: float = Field(default=30.0, gt=0)
    cameras: list[Camera] | None = Field(
        default=None, description="Ceiling cameras (optional; absent in track-only recordings)."
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value != FORMAT_ID:
            raise ValueError(f"unsupported format {value!r}, expected {FORMAT_ID!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StoreLayout:
        skus = [p.sku for p in self.products]
        if len(set(skus)) != len(skus):
            raise ValueError("duplicate sku in products")
        plate_ids = [p.id for p in self.plates]
        if len(set(plate_ids)) != len(plate_ids):
            raise ValueError("duplicate plate id in plates")
        known = set(skus)
        for plate in self.plates:
            for sku in plate.skus:
                if sku not in known:
                    raise ValueError(f"plate {plate.id!r} lists unknown sku {sku!r}")
        gate_ids = [g.id for g in self.gates]
        if len(set(gate_ids)) != len(gate_ids):
            raise ValueError("duplicate gate id in gates")
        camera_ids = [c.id for c in self.cameras or []]
        if len(set(camera_ids)) != len(camera_ids):
            raise ValueError("duplicate camera id in cameras")
        return self

    def shelves(self) -> dict[str, list[Plate]]:
        """Plates grouped by shelf, in the order of ``plates`` (the order of ``weight.g``)."""
        grouped: dict[str, list[Plate]] = {}
        for plate in self.plates:
            grouped.setdefault(plate.shelf, []).append(plate)
        return grouped


# --- messages (events.jsonl lines and live feed payloads) -------------------------------------


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    t: float = Field(allow_inf_nan=False)


class WeightMsg(_Message):
    type: Literal["weight"] = "weight"
    shelf: str
    g: list[float | None] = Field(
        description="One reading per plate of the shelf, in store.json order; null = dropped."
    )


class EntryMsg(_Message):
    type: Literal["entry"] = "entry"
    gate: str
    account: str = Field(min_length=1)


class TrackMsg(_Message):
    type: Literal["track"] = "track"
    id: str
    pos: Point2
    hands: list[Point3] | None = None
    look: list[FiniteFloat] | None = Field(
        default=None,
        max_length=64,
        description="Optional extension: an appearance descriptor of the person (a "
        "re-identification model's output), comparable across track ids by distance.",
    )

    @field_validator("hands")
    @classmethod
    def _at_most_two(cls, value: list[Point3] | None) -> list[Point3] | None:
        if value is not None and len(value) > 2:
            raise ValueError(f"at most 2 hands, got {len(value)}")
        return value


class ExitMsg(_Message):
    type: Literal["exit"] = "exit"
    gate: str


Message = Annotated[WeightMsg | EntryMsg | TrackMsg | ExitMsg, Field(discriminator="type")]
MESSAGE_ADAPTER: TypeAdapter[WeightMsg | EntryMsg | TrackMsg | ExitMsg] = TypeAdapter(Message)


class WeightLine(TypedDict):
    """A weight message as a plain dict: the replay's light form of nearly every line.

    The same fields and checks as ``WeightMsg`` with ``type`` required, so a line this accepts
    is one the tagged union reads as the same ``WeightMsg``. Building a dict costs pydantic
    about 40 % less than building a model, and reading it costs the engine less too.
    """

    t: Annotated[float, Field(allow_inf_nan=False)]
    type: Literal["weight"]
    shelf: str
    g: list[float | None]


WEIGHT_LINE_ADAPTER: TypeAdapter[WeightLine] = TypeAdapter(WeightLine)


# --- receipts and truth -------------------------------------------------------------------------


class TruthReceipt(BaseModel):
    account: str
    items: dict[str, int] = Field(default_factory=dict)


class Truth(BaseModel):
    receipts: list[TruthReceipt]


class ReceiptOut(BaseModel):
    """One account's receipt as ``replay`` writes it (spec shape plus optional fields)."""

    account: str
    items: dict[str, int]
    total: str
    confidence: float
    needs_review: bool
    age_check_required: bool
    review_reasons: list[str] = Field(default_factory=list)


class ReceiptsFile(BaseModel):
    receipts: list[ReceiptOut]
