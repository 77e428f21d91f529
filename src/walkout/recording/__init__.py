"""The store recording format: models, reading and writing (the spec's edge of the system)."""
