"""Short seeded recordings shared by the simulator tests (each is simulated once per session)."""

from __future__ import annotations

import pytest
from tests.sim.recording import Recording

from walkout.sim import simulate


def _make(tmp_path_factory: pytest.TempPathFactory, preset: str, minutes: float) -> Recording:
    folder = tmp_path_factory.mktemp(preset)
    simulate(folder, preset, seed=7, minutes=minutes)
    return Recording(folder)


@pytest.fixture(scope="session")
def easy(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _make(tmp_path_factory, "easy", 2.0)


@pytest.fixture(scope="session")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _make(tmp_path_factory, "busy", 3.0)


@pytest.fixture(scope="session")
def hard(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _make(tmp_path_factory, "hard", 3.0)
