"""A track id's history answers "whose was it then" for one sample or a window at once."""

from __future__ import annotations

import pytest

from walkout.engine.tracking import TrackHistory


@pytest.mark.parametrize(
    "segments",
    [
        [(0.0, 7)],
        [(0.0, 7), (1.05, 8), (2.5, 9)],
        [(0.0, 7), (2.0, 8), (1.5, 9)],  # a change dated before the last: list order wins
    ],
)
def test_persons_at_agrees_with_person_at_for_every_sample(
    segments: list[tuple[float, int]],
) -> None:
    hist = TrackHistory()
    for k in range(40):
        hist.append(k * 0.1, (0.0, 0.0), ())
    hist.segments = list(segments)
    for a, b in [(0, 40), (5, 23), (12, 13), (30, 30)]:
        want = [hist.person_at(hist.t[i]) for i in range(a, b)]
        assert hist.persons_at(a, b).tolist() == want
    if len(segments) > 1:  # not all one person, or the check says nothing
        assert len(set(hist.persons_at(0, 40).tolist())) > 1
