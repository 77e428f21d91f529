"""``walkout serve``: registered on the main command line; heavy imports stay inside commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the service's commands to ``app``."""
    app.command("serve")(serve)


def serve(
    store: Annotated[
        Path | None, typer.Option(help="Folder with the store's store.json (not with --demo).")
    ] = None,
    db: Annotated[
        str, typer.Option(help="Log database: sqlite:///FILE or postgresql+psycopg://...")
    ] = "sqlite:///walkout.db",
    host: Annotated[str, typer.Option(help="HTTP listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    mqtt_url: Annotated[
        str | None, typer.Option(help="Use this MQTT broker instead of starting mosquitto.")
    ] = None,
    no_mqtt: Annotated[bool, typer.Option("--no-mqtt", help="HTTP only, no MQTT.")] = False,
    admin_key: Annotated[
        str | None,
        typer.Option(envvar="WALKOUT_ADMIN_KEY", help="Bootstrap admin key (else generated)."),
    ] = None,
    reorder_window: Annotated[
        float | None,
        typer.Option(
            help="Engine reorder window in seconds: at least the devices' batching plus "
            "jitter; every receipt waits this long (default 0.5, LIVE_REORDER_WINDOW_S)."
        ),
    ] = None,
    weight_grace: Annotated[
        float | None,
        typer.Option(
            help="How much later than the reorder window a weight reading is still taken, in "
            "seconds (default 0, LIVE_WEIGHT_GRACE_S); later ones are dropped and counted."
        ),
    ] = None,
    exit_window: Annotated[
        float | None,
        typer.Option(
            help="Reorder window in seconds while an exit is held or a leaver's receipt waits "
            "(at least the devices' batching): receipts wait this instead of the whole window, "
            "and lines later than it meanwhile take the late paths (default 0.15, "
            "LIVE_EXIT_WINDOW_S; as long as the reorder window: off)."
        ),
    ] = None,
    commit_linger: Annotated[
        float | None,
        typer.Option(
            help="Seconds the log waits for more messages before committing a small batch "
            "(group commit; default 0.005, 0: commit at once)."
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A whole live store on this machine: simulate a store, serve it, and play its "
            "shelves, cameras and gates over MQTT in real time (state in --demo-dir).",
        ),
    ] = False,
    demo_dir: Annotated[Path, typer.Option(help="Where --demo keeps its store and log.")] = Path(
        "walkout-demo"
    ),
    preset: Annotated[str, typer.Option(help="--demo: simulator preset.")] = "busy",
    minutes: Annotated[float, typer.Option(help="--demo: minutes of store to play.")] = 10.0,
    speed: Annotated[float, typer.Option(help="--demo: times real time.")] = 1.0,
) -> None:
    """Run the live store: durable log, engine, HTTP/WebSocket API and MQTT bridge."""
    from pydantic import ValidationError

    from walkout.recording.files import RecordingError
    from walkout.service.server import run
    from walkout.service.settings import ServiceSettings

    on_ready = None
    if demo:
        if no_mqtt or mqtt_url:
            typer.echo("error: --demo plays its devices over the embedded broker", err=True)
            raise typer.Exit(2)
        from walkout.service.demo import prepare_demo

        store, db, on_ready = prepare_demo(demo_dir, preset, minutes, speed, host, port)
    elif store is None:
        typer.echo("error: give --store DIR (a folder with store.json), or --demo", err=True)
        raise typer.Exit(2)
    tuned = {} if reorder_window is None else {"reorder_window_s": reorder_window}
    if weight_grace is not None:
        tuned["weight_grace_s"] = weight_grace
    if exit_window is not None:
        tuned["exit_window_s"] = exit_window
    if commit_linger is not None:
        tuned["commit_linger_s"] = commit_linger
    try:
        settings = ServiceSettings(
            store_dir=store,
            db_url=db,
            host=host,
            port=port,
            mqtt=not no_mqtt,
            mqtt_url=mqtt_url,
            admin_key=admin_key,
            **tuned,
        )
        run(settings, on_ready)
    except (ValidationError, RecordingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ConnectionError as exc:  # the MQTT broker named by --mqtt-url is not there
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
