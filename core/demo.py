"""The bundled demo: ten posts about six real photos, imported into their own data
folder (<data>/demo) and queued for the pipeline the first time `main.py --demo` runs.

Kept in core (no Qt) so the CLI, tests and the GUI prepare the demo the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundlens.core.config import RESOURCES_DIR, AppPaths
from groundlens.core.ingest.importer import import_paths
from groundlens.core.ingest.report import ImportReport
from groundlens.core.settings import Settings
from groundlens.storage import Store

DEMO_DIR = RESOURCES_DIR / "demo"
DEMO_POSTS = DEMO_DIR / "posts.jsonl"
DEMO_BATCH_SIZE = 2  # small batches: results appear in the app post by post, not all at the end


@dataclass
class DemoSetup:
    paths: AppPaths
    config_key: str
    imported: ImportReport | None  # None when the demo was already there
    pending: int  # posts the pipeline still has to process for the current settings


def demo_paths(paths: AppPaths) -> AppPaths:
    """The demo's own data folder, so it never mixes with the analyst's data."""
    return AppPaths(data_dir=paths.data_dir / "demo", models_dir=paths.models_dir)


def prepare_demo(paths: AppPaths) -> DemoSetup:
    """Import the demo posts once (images copied into the demo's cache) and queue them all.

    On later runs it only reports what is left to process: the pipeline resumes where it stopped.
    """
    demo = demo_paths(paths).ensure()
    if not demo.settings_file.exists():
        Settings(batch_size=DEMO_BATCH_SIZE).save(demo.settings_file)
    config_key = Settings.load(demo.settings_file).pipeline.key()
    with Store.open(demo.db_path) as store:
        imported = None
        if store.count_posts() == 0:
            imported = import_paths(store, [DEMO_POSTS], copy_images=True)
            store.enqueue(config_key)
        counts = store.job_counts(config_key)
        pending = counts["pending"] + counts["running"]  # a closed app's "running" jobs: its worker requeues them
    return DemoSetup(demo, config_key, imported, pending)
