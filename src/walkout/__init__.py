"""walkout: a checkout-free store engine: shelf weights and shopper tracks in, receipts out."""

__version__ = "0.1.0"
