"""``walkout track``: registered on the main command line; heavy imports stay inside commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the vision commands to ``app``."""
