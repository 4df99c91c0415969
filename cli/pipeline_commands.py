"""`process` (the job queue in the database) and `analyze` (file to file) commands."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from groundlens.cli.output import check_output, writing
from groundlens.core.config import AppPaths
from groundlens.core.jobs.progress import format_duration
from groundlens.core.pipeline.config import PipelineConfig
from groundlens.core.pipeline.registry import STAGES
from groundlens.core.safe_output import check_writable, database_files
from groundlens.core.settings import DEVICES, ENGINES, Settings, SettingsError

if TYPE_CHECKING:
    from groundlens.core.jobs.engine import Engine

console = Console(stderr=True)


def stage_options(command: Callable) -> Callable:
    """--ner/--expression/... NAME|off, --option stage.key=value, --threads: override the saved settings."""
    for stage in reversed(STAGES):
        command = click.option(
            f"--{stage}",
            metavar="NAME|off",
            default=None,
            help=f"{stage} backend for this run ('off' skips the stage).",
        )(command)
    command = click.option(
        "--option",
        "-O",
        "stage_option",
        multiple=True,
        metavar="STAGE.KEY=VALUE",
        help="Backend option, e.g. -O grounding.model=google/owlv2-base-patch16-ensemble "
        "(VALUE is parsed as JSON when it can be).",
    )(command)
    command = click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default=None,
        help="Where the pipeline runs: 'local' (this machine) or 'ray' (a Ray cluster; "
        "needs groundlens[cluster]). Default: the saved setting.",
    )(command)
    command = click.option(
        "--address",
        "ray_address",
        metavar="ADDR",
        default=None,
        help="The Ray cluster to join (127.0.0.1:6379, ray://host:10001); without it "
        "--engine ray starts a Ray instance on this machine.",
    )(command)
    command = click.option(
        "--workers",
        "ray_workers",
        type=click.IntRange(1),
        default=None,
        help="Pipeline workers (Ray actors) on the cluster; default: as many as it has room for.",
    )(command)
    command = click.option(
        "--device",
        type=click.Choice(DEVICES),
        default=None,
        help="Where the models run: auto (a GPU when there is one), cpu or cuda.",
    )(command)
    return click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for the models.")(command)


def configure(paths: AppPaths, overrides: dict[str, Any]) -> Settings:
    """Saved settings with this run's command-line overrides applied (the file is not changed), checked
    as the GUI checks them: one message naming the file, field or path when they cannot run."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own bar reports progress
    try:
        settings = Settings.load(paths.settings_file)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    config = settings.pipeline
    for stage in STAGES:
        if overrides.get(stage) is not None:
            config = config.with_stage(stage, overrides[stage])  # a new backend starts from its own defaults
    for item in overrides.get("stage_option") or ():
        config = _with_option(config, item)
    settings.pipeline = config
    for name in ("threads", "engine", "ray_address", "ray_workers", "device"):
        if overrides.get(name) is not None:
            setattr(settings, name, overrides[name])
    try:
        return settings.validate()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _with_option(config: PipelineConfig, item: str) -> PipelineConfig:
    target, sep, raw = item.partition("=")
    stage, dot, key = target.partition(".")
    if not sep or not dot or stage not in STAGES or not key:
        raise click.BadParameter(
            f"expected STAGE.KEY=VALUE with STAGE one of {', '.join(STAGES)}, got {item!r}", param_hint="--option"
        )
    current = config.stage(stage)
    if current is None:
        raise click.BadParameter(f"the {stage} stage is off; choose its backend first", param_hint="--option")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return config.with_stage(stage, {"backend": current.backend, "options": {**current.options, key: value}})


def build_engine(paths: AppPaths, overrides: dict[str, Any]) -> tuple[Settings, Engine]:
    """The configured pipeline on the chosen engine for a file-to-file run (`analyze`, `eval --dataset`),
    with its models loaded, or a clear error."""
    from groundlens.core.jobs.engine_choice import open_engine

    settings = configure(paths, overrides)
    console.print(f"pipeline {settings.pipeline.describe()}")
    try:
        return settings, open_engine(settings)
    except Exception as exc:  # noqa: BLE001 - a missing model, bad option or unreachable cluster is a user error
        raise click.ClickException(f"cannot build the pipeline: {type(exc).__name__}: {exc}") from None


def progress_bar() -> Progress:
    """The remaining time is the worker's estimate (core.jobs.progress.RemainingTime), as in the GUI."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[left]}"),
        console=console,
    )


@click.command("process")
@click.option("--limit", type=click.IntRange(1), default=None, help="Process at most N pending posts.")
@click.option("--retry-failed", is_flag=True, help="Put posts that failed under this configuration back in the queue.")
@stage_options
@click.pass_obj
def process(paths: AppPaths, /, limit: int | None, retry_failed: bool, **overrides: Any) -> None:
    """Run the pipeline over every post not yet processed with the current configuration.

    Resumable: interrupted runs (Ctrl-C, a crash, kill -9) continue where they stopped.
    """
    from groundlens.core.jobs.runner import JobRunner

    settings = configure(paths, overrides)
    runner = JobRunner(paths, settings, limit=limit, retry_failed=retry_failed)
    where = f" on Ray ({settings.ray_address or 'started here'})" if settings.engine == "ray" else ""
    console.print(f"pipeline {settings.pipeline.describe()} (key {runner.config_key}){where}")
    handle = runner.start()
    with progress_bar() as bar:
        task = bar.add_task("starting", total=None, rate="", left="")
        interrupted = False
        while True:
            try:
                state = handle.wait(0.25)
            except KeyboardInterrupt:
                if interrupted:
                    handle.terminate()
                    state = handle.progress()
                else:
                    interrupted = True
                    handle.cancel()
                    console.print("cancelling after the current batch (Ctrl-C again to stop at once)")
                    continue
            bar.update(
                task,
                description=state.state,
                total=state.total or None,
                completed=state.done,
                rate=f"{state.rate * 60:.0f} posts/min" if state.rate else "",
                left=f"ETA {format_duration(state.eta_s)}" if state.eta_s is not None else "",
            )
            if state.finished:
                break
    state = handle.wait()  # let the worker close its store and exit before this process does
    console.print(
        f"{state.state}: {state.done} of {state.total} posts ({state.failed} with errors)"
        + (f" in {state.elapsed_s:.1f} s" if state.elapsed_s else "")
    )
    if state.state == "failed":
        raise click.ClickException(state.message or "the pipeline run failed")


@click.command("analyze")
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write one JSON result per input line.",
)
@stage_options
@click.pass_obj
def analyze(paths: AppPaths, /, input_path: Path, output_path: Path, **overrides: Any) -> None:
    """Run the pipeline on a JSON-lines file ({"id", "text", "image"} per line) without the database."""
    from groundlens.core.jobs.analyze_file import analyze_jsonl

    check_output(output_path, {"the input": [input_path], "the database": database_files(paths.db_path)})
    with writing(output_path):
        check_writable(output_path)  # now, not after the models have loaded
    settings, engine = build_engine(paths, overrides)
    with input_path.open(encoding="utf-8", errors="replace") as counter:
        total = sum(1 for line in counter if line.strip())
    with closing(engine), progress_bar() as bar, writing(output_path):
        task = bar.add_task("analyzing", total=total, rate="", left="")
        summary = analyze_jsonl(
            engine, input_path, output_path, settings.batch_size, on_progress=lambda n: bar.advance(task, n)
        )
    console.print(f"{summary.posts} posts written to {output_path} ({summary.errors} with errors)")


COMMANDS = [process, analyze]
