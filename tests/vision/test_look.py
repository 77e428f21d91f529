"""Looks in the track messages: each person's clothes, told apart frame by frame."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

from walkout.recording.models import TrackMsg
from walkout.vision.pipeline import CameraStage

from .scenes import scene, tiny_store, walker


def test_two_people_in_different_clothes_have_their_own_looks() -> None:
    store = tiny_store()
    people = [walker(0, (0.8, 1.0), (5.2, 1.4), 0.4), walker(1, (0.8, 3.0), (5.2, 2.6), 0.6)]
    sc = scene(people, store)
    red, blue = (40, 40, 170), (170, 60, 40)  # BGR
    sc.looks = [dataclasses.replace(sc.looks[0], shirt=red),
                dataclasses.replace(sc.looks[1], shirt=blue)]  # fmt: skip
    stage = CameraStage(store)
    looks: dict[str, list[np.ndarray]] = defaultdict(list)
    owner: dict[str, set[int]] = defaultdict(set)
    messages = 0
    for frame in sc.frames(0.0, 4.0):
        for m in stage.step(frame.t, frame.images):
            TrackMsg.model_validate(m)  # the spec's format, look included
            messages += 1
            d = np.linalg.norm(frame.xy - np.array(m["pos"]), axis=1)
            owner[str(m["id"])].add(int(frame.people[int(np.argmin(d))]))
            if "look" in m:
                looks[str(m["id"])].append(np.array(m["look"], dtype=float))
    assert len(looks) == 2, f"one id each, both with looks: {sorted(looks)}"
    assert all(len(o) == 1 for o in owner.values()) and len(set.union(*owner.values())) == 2
    assert sum(len(v) for v in looks.values()) >= 0.8 * messages, "most frames carry a look"
    a, b = (np.array(v) for v in looks.values())
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    for own, mine, other in ((a, mean_a, mean_b), (b, mean_b, mean_a)):
        closer = np.linalg.norm(own - mine, axis=1) < np.linalg.norm(own - other, axis=1)
        assert closer.all(), f"{(~closer).sum()} of {len(own)} looks nearer the other person"
    noise = np.concatenate([a - mean_a, b - mean_b]).std(axis=0)
    assert np.linalg.norm(mean_a - mean_b) > 5 * np.sqrt((noise**2).sum()), "far apart"
