"""walkout: a checkout-free store engine that turns shelf weights and shopper tracks into receipts."""

__version__ = "0.1.0"
