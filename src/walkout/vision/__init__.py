"""Cameras: from overhead frames to the spec's ``track`` messages."""
