"""The pure, deterministic engine: store messages in, cart changes and receipts out."""

from walkout.engine.cart import CartChange, FinalReceipt, StoreAlert
from walkout.engine.config import EngineConfig
from walkout.engine.engine import Engine, Output
from walkout.engine.receipt import Receipt

__all__ = [
    "CartChange",
    "Engine",
    "EngineConfig",
    "FinalReceipt",
    "Output",
    "Receipt",
    "StoreAlert",
]
