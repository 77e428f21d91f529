"""Which plate changes belong to one action: neighbours of a shelf that changed together.

A unit standing across two plates (a wide product, or one that leans onto the next plate) moves
the weight of several plates at once, while a touch can leave a neighbouring plate a few grams
off for good. So settled changes on neighbouring plates of one shelf whose activity overlapped in
time form a *component*; the engine then picks the best way to cut the component into blocks of
neighbouring plates, each block either one product event (its changes summed) or a mere shift.
"""

from __future__ import annotations

from collections.abc import Iterator

from walkout.engine.store import StoreIndex
from walkout.engine.weights import PlateChange

OVERLAP_SLACK_S = 0.5
"""Activity windows this close in time count as overlapping."""

MAX_COMPONENT = 6
"""Components larger than this are cut into single plates (a crowded shelf, not one unit)."""


def overlaps(a: PlateChange, b: PlateChange) -> bool:
    return a.t_start - OVERLAP_SLACK_S <= b.t_end and b.t_start - OVERLAP_SLACK_S <= a.t_end


def components(store: StoreIndex, changes: list[PlateChange]) -> list[list[PlateChange]]:
    """Connected groups of changes: same shelf, neighbouring plates, overlapping in time.

    Each group is sorted by the plates' order along the shelf; groups come in time order.
    """
    parent = list(range(len(changes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(changes):
        for j in range(i + 1, len(changes)):
            b = changes[j]
            if store.shelf_of_plate[a.plate] != store.shelf_of_plate[b.plate]:
                continue
            if abs(store.position_on_shelf[a.plate] - store.position_on_shelf[b.plate]) != 1:
                continue
            if overlaps(a, b):
                parent[find(i)] = find(j)
    groups: dict[int, list[PlateChange]] = {}
    for i, ch in enumerate(changes):
        groups.setdefault(find(i), []).append(ch)
    out: list[list[PlateChange]] = []
    for group in groups.values():
        group.sort(key=lambda c: (store.position_on_shelf[c.plate], c.t_end))
        if len(group) > MAX_COMPONENT or len({c.plate for c in group}) != len(group):
            out.extend([c] for c in sorted(group, key=lambda c: (c.t_end, c.plate)))
        else:
            out.append(group)
    out.sort(key=lambda g: (min(c.t_end for c in g), g[0].plate))
    return out


def partitions(n: int) -> Iterator[list[tuple[int, int]]]:
    """Every way to cut ``n`` items in a row into contiguous blocks, as (start, stop) pairs."""
    for mask in range(1 << max(n - 1, 0)):
        blocks = []
        start = 0
        for i in range(1, n):
            if mask & (1 << (i - 1)):
                blocks.append((start, i))
                start = i
        blocks.append((start, n))
        yield blocks
