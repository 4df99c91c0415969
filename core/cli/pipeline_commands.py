"""`process` (the job queue in the database) and `analyze` (file to file) commands."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from core.config import AppPaths
from core.pipeline.config import PipelineConfig
from core.pipeline.registry import STAGES
from core.settings import Settings

if TYPE_CHECKING:
    from core.pipeline.pipeline import Pipeline

console = Console(stderr=True)


def stage_options(command: Callable) -> Callable:
    """--ner/--expression/... NAME|off, --option stage.key=value, --threads: override the saved settings."""
    for stage in reversed(STAGES):
        command = click.option(f"--{stage}", metavar="NAME|off", default=None,
                               help=f"{stage} backend for this run ('off' skips the stage).")(command)
    command = click.option("--option", "-O", "stage_option", multiple=True, metavar="STAGE.KEY=VALUE",
                           help="Backend option, e.g. -O grounding.model=google/owlv2-base-patch16-ensemble "
                                "(VALUE is parsed as JSON when it can be).")(command)
    return click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads for the models.")(command)


def configure(paths: AppPaths, overrides: dict[str, Any]) -> Settings:
    """Saved settings with this run's command-line overrides applied (the file is not changed)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own bar reports progress
    try:
        settings = Settings.load(paths.settings_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    config = settings.pipeline
    for stage in STAGES:
        if overrides.get(stage) is not None:
            config = config.with_stage(stage, overrides[stage])  # a new backend starts from its own defaults
    for item in overrides.get("stage_option") or ():
        config = _with_option(config, item)
    settings.pipeline = config
    if overrides.get("threads"):
        settings.threads = overrides["threads"]
    return settings


def _with_option(config: PipelineConfig, item: str) -> PipelineConfig:
    target, sep, raw = item.partition("=")
    stage, dot, key = target.partition(".")
    if not sep or not dot or stage not in STAGES or not key:
        raise click.BadParameter(f"expected STAGE.KEY=VALUE with STAGE one of {', '.join(STAGES)}, got {item!r}",
                                 param_hint="--option")
    current = config.stage(stage)
    if current is None:
        raise click.BadParameter(f"the {stage} stage is off; choose its backend first", param_hint="--option")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return config.with_stage(stage, {"backend": current.backend, "options": {**current.options, key: value}})


def build_pipeline(paths: AppPaths, overrides: dict[str, Any]) -> tuple[Settings, "Pipeline"]:
    """The configured pipeline for a file-to-file run (`analyze`, `eval --dataset`), or a clear error."""
    from core.pipeline.pipeline import Pipeline

    settings = configure(paths, overrides)
    if settings.threads:
        import torch

        torch.set_num_threads(settings.threads)
    console.print(f"pipeline {settings.pipeline.describe()}")
    try:
        return settings, Pipeline.from_config(settings.pipeline)
    except Exception as exc:  # noqa: BLE001 - a missing model or bad option is a user error, not a traceback
        raise click.ClickException(f"cannot build the pipeline: {type(exc).__name__}: {exc}") from None


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=console)


@click.command("process")
@click.option("--limit", type=click.IntRange(1), default=None, help="Process at most N pending posts.")
@click.option("--retry-failed", is_flag=True, help="Put posts that failed under this configuration back in the queue.")
@stage_options
@click.pass_obj
def process(paths: AppPaths, limit: int | None, retry_failed: bool, **overrides: Any) -> None:
    """Run the pipeline over every post not yet processed with the current configuration.

    Resumable: interrupted runs (Ctrl-C, a crash, kill -9) continue where they stopped.
    """
    from core.jobs.runner import JobRunner

    settings = configure(paths, overrides)
    runner = JobRunner(paths, settings.pipeline, limit=limit, retry_failed=retry_failed,
                       threads=settings.threads, batch_size=settings.batch_size)
    console.print(f"pipeline {settings.pipeline.describe()} (key {runner.config_key})")
    handle = runner.start()
    with progress_bar() as bar:
        task = bar.add_task("starting", total=None, rate="")
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
            bar.update(task, description=state.state, total=state.total or None, completed=state.done,
                       rate=f"{state.rate * 60:.0f} posts/min" if state.rate else "")
            if state.finished:
                break
    state = handle.wait()  # let the worker close its store and exit before this process does
    console.print(f"{state.state}: {state.done} of {state.total} posts ({state.failed} with errors)"
                  + (f" in {state.elapsed_s:.1f} s" if state.elapsed_s else ""))
    if state.state == "failed":
        raise click.ClickException(state.message or "the pipeline run failed")


@click.command("analyze")
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write one JSON result per input line.")
@stage_options
@click.pass_obj
def analyze(paths: AppPaths, input_path: Path, output_path: Path, **overrides: Any) -> None:
    """Run the pipeline on a JSON-lines file ({"id", "text", "image"} per line) without the database."""
    from core.jobs.analyze_file import analyze_jsonl

    settings, pipeline = build_pipeline(paths, overrides)
    with input_path.open(encoding="utf-8", errors="replace") as counter:
        total = sum(1 for line in counter if line.strip())
    with progress_bar() as bar:
        task = bar.add_task("analyzing", total=total, rate="")
        summary = analyze_jsonl(pipeline, input_path, output_path, settings.batch_size,
                                on_progress=lambda n: bar.advance(task, n))
    console.print(f"{summary.posts} posts written to {output_path} ({summary.errors} with errors)")


COMMANDS = [process, analyze]
