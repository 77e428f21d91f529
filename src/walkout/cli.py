"""The ``walkout`` command line: simulate, replay, eval, demo, explain, import."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from walkout.engine.receipt import Receipt
from walkout.recording.files import RecordingError, read_store, read_truth

app = typer.Typer(
    name="walkout",
    help="Checkout-free store engine: shelf weights and shopper tracks in, exact receipts out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Convert other stores' recordings into walkout's format.")
app.add_typer(import_app, name="import")

console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _progress(label: str, enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A rich progress bar fed with fractions 0..1 (silent when not a terminal)."""
    if not enabled or not err_console.is_terminal:
        yield lambda _fraction: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda fraction: bar.update(task, completed=fraction)


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what the engine decides.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def simulate(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the recording into.")],
    preset: Annotated[str, typer.Option(help="easy, busy, hard or scale.")] = "busy",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same recording.")] = 0,
    minutes: Annotated[float | None, typer.Option(help="Length of the recording.")] = None,
    layout: Annotated[
        Path | None, typer.Option(help="A store.json of your own to simulate.")
    ] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Write events.jsonl.gz.")] = False,
    video: Annotated[
        bool,
        typer.Option("--video", help="Also render the ceiling cameras' video into video/ (slow)."),
    ] = False,
    stand_gap: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Keep standing shoppers at least this many metres apart (0: off, as the "
            "presets are; sets the preset's stand_gap_m).",
        ),
    ] = 0.0,
) -> None:
    """Write a realistic recording (store.json, events.jsonl, truth.json)."""
    from walkout.sim import PRESETS, simulate_config, variant

    if preset not in PRESETS:
        _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    cfg = PRESETS[preset]
    if stand_gap != cfg.stand_gap_m:
        cfg = variant(cfg, stand_gap_m=stand_gap)
    try:
        with _progress(f"simulating {preset}") as progress:
            summary = simulate_config(
                outdir, cfg, seed, minutes, layout, gzip, progress=progress, video=video
            )
    except RecordingError as exc:
        _fail(str(exc))
    console.print(f"wrote {outdir}: {summary}")


@app.command()
def replay(
    recording: Annotated[Path, typer.Argument(help="Recording folder.")],
    out: Annotated[Path, typer.Option(help="Where to write the receipts JSON.")] = Path(
        "receipts.json"
    ),
    baseline: Annotated[bool, typer.Option(help="Run the naive baseline instead.")] = False,
) -> None:
    """Run the engine over a recording and write its receipts (never reads truth.json)."""
    from walkout.replay import replay as run_replay

    factory = _baseline_factory() if baseline else None
    started = time.perf_counter()
    try:
        with _progress(f"replaying {recording.name}") as progress:
            result = run_replay(recording, engine_factory=factory, progress=progress)
    except RecordingError as exc:
        _fail(str(exc))
    elapsed = time.perf_counter() - started
    for err in result.rejected[:20]:
        err_console.print(f"[yellow]rejected[/] {err}", soft_wrap=True)
    if len(result.rejected) > 20:
        err_console.print(f"[yellow]... and {len(result.rejected) - 20} more rejected lines[/]")
    out.write_text(result.receipts_file().model_dump_json(indent=2) + "\n", encoding="utf-8")
    reviewed = sum(r.needs_review for r in result.receipts)
    console.print(
        f"{len(result.receipts)} receipts ({reviewed} to review) from {result.messages} messages "
        f"in {elapsed:.1f} s -> {out}"
    )


def _baseline_factory():  # type: ignore[no-untyped-def]
    from walkout.eval.baseline import NaiveEngine

    return NaiveEngine


@app.command("eval")
def evaluate(
    recordings: Annotated[list[Path], typer.Argument(help="Recording folders with truth.json.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    baseline: Annotated[bool, typer.Option(help="Also score the naive baseline.")] = False,
) -> None:
    """Replay recordings and score the receipts against their truth.json."""
    from walkout.eval.score import score_json, score_receipts, score_table
    from walkout.replay import replay as run_replay

    engines: list[tuple[str, object]] = [("walkout", None)]
    if baseline:
        engines.append(("baseline", _baseline_factory()))
    rows_by_engine: dict[str, list] = {name: [] for name, _ in engines}  # type: ignore[type-arg]
    try:
        for rec in recordings:
            truth = read_truth(rec)
            for name, factory in engines:
                result = run_replay(rec, engine_factory=factory)  # type: ignore[arg-type]
                receipts = [r.to_out() for r in result.receipts]
                rows_by_engine[name].append((rec.name, score_receipts(truth, receipts)))
    except RecordingError as exc:
        _fail(str(exc))
    if as_json:
        print(
            json.dumps({name: score_json(rows) for name, rows in rows_by_engine.items()}, indent=2)
        )
        return
    for name, rows in rows_by_engine.items():
        table = score_table(rows)
        table.title = name
        console.print(table)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the simulated day.")] = 7,
    preset: Annotated[str, typer.Option(help="Simulator preset.")] = "busy",
    minutes: Annotated[float, typer.Option(help="Length of the simulated day.")] = 10.0,
    keep: Annotated[Path | None, typer.Option(help="Keep the recording in this folder.")] = None,
) -> None:
    """Simulate a busy store, replay it, score it, and print the receipts and the score."""
    from walkout.eval.score import score_receipts, score_table
    from walkout.replay import replay as run_replay
    from walkout.sim import simulate as run_simulation

    with tempfile.TemporaryDirectory(prefix="walkout-demo-") as tmp:
        folder = keep or Path(tmp) / f"{preset}-seed{seed}"
        started = time.perf_counter()
        with _progress(f"simulating {preset} store") as progress:
            summary = run_simulation(
                folder, preset=preset, seed=seed, minutes=minutes, progress=progress
            )
        sim_s = time.perf_counter() - started
        console.print(
            f"[bold]simulated[/] {minutes:g} min of a {preset} store in {sim_s:.1f} s: {summary}"
        )
        started = time.perf_counter()
        with _progress("replaying") as progress:
            result = run_replay(folder, progress=progress)
        replay_s = time.perf_counter() - started
        console.print(
            f"[bold]replayed[/] {result.messages} messages in {replay_s:.2f} s "
            f"({minutes * 60 / max(replay_s, 1e-9):.0f}x real time)"
        )
        truth = read_truth(folder)
        names = {p.sku: p.name or p.sku for p in read_store(folder).products}
        truth_items = {t.account: t.items for t in truth.receipts}
        console.print(_receipts_table(result.receipts, truth_items, names))
        score = score_receipts(truth, [r.to_out() for r in result.receipts])
        console.print(score_table([(f"{preset} seed {seed}", score)]))


def _receipts_table(
    receipts: list[Receipt], truth: dict[str, dict[str, int]], names: dict[str, str]
) -> Table:
    table = Table(title="receipts")
    for col in ("account", "items", "total", "confidence", "review", "ID check", "vs truth"):
        table.add_column(col)
    for r in receipts:
        items = "\n".join(f"{n} x {names.get(sku, sku)}" for sku, n in r.items.items()) or "-"
        right = truth.get(r.account) == r.items
        table.add_row(
            r.account,
            items,
            f"{r.total:.2f}",
            f"{r.confidence:.3f}",
            "yes" if r.needs_review else "",
            "yes" if r.age_check_required else "",
            "[green]exact[/]" if right else "[red]wrong[/]",
        )
    return table


@app.command()
def explain(
    recording: Annotated[Path, typer.Argument(help="Recording folder.")],
    account: Annotated[str, typer.Option("--account", "-a", help="Account to explain.")],
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of the weight traces.")] = None,
) -> None:
    """Why each line of an account's receipt is there."""
    from walkout.explain import explain_account

    try:
        explain_account(recording, account, console, plot)
    except RecordingError as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(str(exc.args[0]))


@import_app.command("autocheckout")
def import_autocheckout(
    src: Annotated[
        Path, typer.Argument(help="An AutoCheckout case folder (plates/, product.csv).")
    ],
    out: Annotated[Path, typer.Argument(help="Recording folder to write.")],
) -> None:
    """Convert an AutoCheckout competition case into a walkout recording."""
    from walkout.importers.autocheckout import import_autocheckout as run_import

    try:
        summary = run_import(src, out)
    except RecordingError as exc:
        _fail(str(exc))
    console.print(f"wrote {out}: {summary}")


def _register_subsystems() -> None:
    """The live service and the camera stage add their own commands (kept in their packages)."""
    from walkout.service.cli import register as register_service
    from walkout.vision.cli import register as register_vision

    register_service(app)
    register_vision(app)


_register_subsystems()

if __name__ == "__main__":
    app()
