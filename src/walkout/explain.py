"""``walkout explain``: why each line of a receipt is there, in words and (optionally) a picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.tree import Tree

from walkout.engine import CartChange
from walkout.recording.files import iter_messages, read_store
from walkout.recording.models import TrackMsg, WeightMsg
from walkout.replay import replay

PLOT_MARGIN_S = 3.0


def explain_account(recording: Path, account: str, console: Console, plot: Path | None) -> None:
    """Print the cause of every cart change of ``account``; draw them into ``plot`` if given."""
    result = replay(recording, keep_changes=True)
    receipt = next((r for r in result.receipts if r.account == account), None)
    if receipt is None:
        known = ", ".join(r.account for r in result.receipts[:10])
        raise KeyError(f"no receipt for account {account!r} in {recording} (accounts: {known})")
    changes = [c for c in result.changes if c.account == account]
    items = ", ".join(f"{n} x {s}" for s, n in receipt.items.items()) or "nothing"
    flags = []
    if receipt.needs_review:
        flags.append("NEEDS REVIEW")
    if receipt.age_check_required:
        flags.append("ID CHECK")
    tree = Tree(
        f"[bold]{account}[/]: {items}, total {receipt.total:.2f}, "
        f"confidence {receipt.confidence:.3f} {' '.join(flags)}"
    )
    for change in changes:
        _add_change(tree, change)
    for reason in receipt.review_reasons:
        tree.add(f"[yellow]review:[/] {reason}")
    console.print(tree)
    if plot is not None:
        plot_changes(recording, changes, plot)
        console.print(f"plot written to {plot}")


def _add_change(tree: Tree, change: CartChange) -> None:
    ev = change.event
    items = ", ".join(f"{n} x {s}" for s, n in change.items.items())
    deltas = " + ".join(f"{d:+.1f} g" for d in ev.delta_g)
    node = tree.add(
        f"[bold]{change.kind}[/] {items}  (event {ev.event_id}, {'+'.join(ev.plates)}, "
        f"t {ev.t_start:.2f}-{ev.t_end:.2f} s, {deltas}, confidence {change.confidence:.3f})"
    )
    prod = node.add("products that explain the weight")
    for p in change.products:
        prod.add(f"{p.description}: expected {p.expected_g:.1f} g, posterior {p.posterior:.3f}")
    who = node.add("shoppers near")
    for person in change.people:
        hand = f"hand {person.hand_m:.2f} m" if np.isfinite(person.hand_m) else "hands unseen"
        who.add(
            f"{person.account or 'no account'} (person {person.pid}): {hand}, "
            f"body {person.body_m:.2f} m from the reach point, posterior {person.posterior:.3f}"
        )


def plot_changes(recording: Path, changes: list[CartChange], path: Path) -> None:
    """Weight trace of each event's plates with the event marked, shoppers' distances below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layout = read_store(recording)
    plate_pos = {p.id: i for i, p in enumerate(layout.plates)}
    shelf_cols = {sid: [p.id for p in plates] for sid, plates in layout.shelves().items()}
    windows = [(c.event.t_start - PLOT_MARGIN_S, c.event.t_end + PLOT_MARGIN_S) for c in changes]
    traces: list[dict[str, list[tuple[float, float]]]] = [{} for _ in changes]
    tracks: list[dict[str, list[tuple[float, float]]]] = [{} for _ in changes]
    for msg in iter_messages(recording, on_error=lambda _e: None):
        for k, (lo, hi) in enumerate(windows):
            if not lo <= msg.t <= hi:
                continue
            ev = changes[k].event
            if isinstance(msg, WeightMsg) and msg.shelf == ev.shelf:
                for pid in ev.plates:
                    v = msg.g[shelf_cols[ev.shelf].index(pid)]
                    if v is not None:
                        traces[k].setdefault(pid, []).append((msg.t, v))
            elif isinstance(msg, TrackMsg):
                c = layout.plates[plate_pos[ev.plates[0]]].center
                pts = [(h[0], h[1]) for h in (msg.hands or [])] + [msg.pos]
                d = min(float(np.hypot(x - c[0], y - c[1])) for x, y in pts)
                tracks[k].setdefault(msg.id, []).append((msg.t, d))
    n = max(len(changes), 1)
    fig, axes = plt.subplots(2, n, figsize=(4.5 * n, 5.5), squeeze=False, sharex="col")
    for k, change in enumerate(changes):
        ev = change.event
        top, bottom = axes[0][k], axes[1][k]
        for pid, pts in sorted(traces[k].items()):
            arr = np.array(pts)
            top.plot(arr[:, 0], arr[:, 1] - arr[0, 1], lw=0.8, label=pid)
        top.axvspan(ev.t_start, ev.t_end, color="orange", alpha=0.25)
        items = ", ".join(f"{n_} x {s}" for s, n_ in change.items.items())
        top.set_title(f"{change.kind} {items}\n{sum(ev.delta_g):+.0f} g", fontsize=9)
        top.set_ylabel("load change (g)")
        top.legend(fontsize=7)
        for tid, pts in sorted(tracks[k].items()):
            arr = np.array(pts)
            if arr[:, 1].min() < 2.5:
                bottom.plot(arr[:, 0], arr[:, 1], lw=0.9, label=tid)
        bottom.axvspan(ev.t_start, ev.t_end, color="orange", alpha=0.25)
        bottom.set_ylabel("nearest hand/body to plate (m)")
        bottom.set_xlabel("store time (s)")
        bottom.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
