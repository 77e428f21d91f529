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


def _hands_listed(hist: TrackHistory, a: int, b: int) -> list[tuple[int, tuple[float, ...]]]:
    return [(i, tuple(p)) for i in range(a, b) for p in hist.hands[i]]


def test_the_arrays_follow_the_lists_through_appends_trims_and_late_samples() -> None:
    """The proximity scan reads positions and hands from numpy copies kept in step lazily: they
    must match the lists after every kind of change (read between changes, or not)."""
    hist = TrackHistory()
    trimmed = False
    for k in range(800):  # 80 s at 10 Hz: the 30 s history is trimmed several times
        t = k * 0.1
        hands = tuple((t, float(j), 1.0) for j in range(k % 3))  # 0, 1 or 2 hands
        hist.append(t, (t, -t), hands)
        if k % 97 == 5:  # a sample that came late, into the part already copied or not
            hist.insert(t - 0.35, (-1.0, -1.0), ((9.0, 9.0, 9.0),))
        trimmed = trimmed or hist.t[0] > 0.0
        if k % 7 == 0 or k % 97 == 6:  # read now and then, so copies are partly stale
            pos, points, sample = hist.arrays()
            assert pos.tolist() == [list(p) for p in hist.pos]
            got = [(int(i), tuple(p)) for i, p in zip(sample, points.tolist(), strict=True)]
            assert got == _hands_listed(hist, 0, len(hist.t))
            a, b = len(hist.t) // 3, len(hist.t) // 2
            r0, r1 = hist.hand_rows(a, b)
            assert [int(i) for i in sample[r0:r1]] == [i for i, _ in _hands_listed(hist, a, b)]
    assert trimmed
    assert (9.0, 9.0, 9.0) in [tuple(p) for p in hist.arrays()[1].tolist()]
