"""Settings: data folder, the backend (and its options) per pipeline stage, thresholds, threads, whether
imports start the pipeline, and the X API token. The settings themselves belong to the app context's
SettingsStore (which saves <data>/settings.json): this page shows them and hands it what the form says."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from groundlens.core.ingest import credentials
from groundlens.core.pipeline import registry
from groundlens.core.pipeline.config import StageConfig
from groundlens.core.pipeline.registry import STAGES
from groundlens.core.safe_output import describe_write_error
from groundlens.core.settings import DEVICES, ENGINES, Settings, SettingsError
from groundlens.gui.context import AppContext, SettingsState
from groundlens.gui.theme import ERROR_COLOR
from groundlens.gui.widgets.appearance import appearance_card
from groundlens.gui.widgets.common import card, label
from groundlens.gui.workers import run_in_pool

OFF = "off"
DEFAULTS_NOTE = (
    "<b>What runs by default</b> (everything ships inside Python packages, nothing is downloaded): "
    "text NER <i>transformers</i> (a MiniLM encoder fine-tuned for PER/LOC/ORG/OTHER), "
    "expressions <i>template</i>, visibility <i>evidence</i> (a trained groundability prior moved by what the "
    "image shows: people, faces, text read by OCR, objects), grounding <i>evidence</i> (person boxes from a "
    "detector, only where a name tag or a left-to-right caption says who is who; text boxes for names read in "
    "the image; objects for products), "
    "segmentation <i>mobile_sam</i> (MobileSAM, about 1 s per image on 2 cores).<br>"
    "<b>CLIP</b> (visibility), <b>OWLv2</b> and <b>Grounding DINO</b> (grounding), a causal LM (expressions) and "
    "original <b>SAM</b> need weights you supply: a local folder or a Hugging Face model id in the options, "
    'e.g. <code>{"model": "/models/owlv2-base-patch16"}</code> (SAM: <code>{"checkpoint": "/models/sam_vit_b.pth"}</code>).'
)
STAGE_LABELS = {
    "ner": "Entity recognition",
    "expression": "Referring expression",
    "entailment": "Visible in image? (entailment)",
    "grounding": "Grounding (boxes)",
    "segmentation": "Segmentation (masks)",
}


class SettingsView(QWidget):
    populated = Signal()
    token_shown = Signal()  # the token line was updated (after reading where runs read it)
    data_folder_requested = Signal(Path)  # reopen the app on another folder

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._populated = False
        self._file_error_shown = False

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(16, 12, 16, 12)
        column.setSpacing(12)
        title = label("Settings", "PageTitle")
        column.addWidget(title)

        folder_card, folder = card("Data folder")
        self.folder_label = QLabel(str(ctx.paths.data_dir))
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        switch = QPushButton("Open another data folder…")
        switch.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder_label, 1)
        row.addWidget(switch)
        folder.addLayout(row)
        note = label(
            "Database, image cache and settings live here; model files are shared in "
            f"{ctx.paths.models_dir}. Also settable with --data-dir or $GROUNDLENS_DATA_DIR.",
            "Muted",
        )
        note.setWordWrap(True)
        folder.addWidget(note)
        column.addWidget(folder_card)
        appearance, self.per_instance_colors = appearance_card()
        column.addWidget(appearance)

        models_card, models = card("Pipeline models")
        defaults = QLabel(DEFAULTS_NOTE)
        defaults.setWordWrap(True)
        models.addWidget(defaults)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.backends: dict[str, QComboBox] = {}
        self.options: dict[str, QLineEdit] = {}
        for row_index, stage in enumerate(STAGES):
            combo = QComboBox()
            combo.setMinimumWidth(170)
            options = QLineEdit()
            options.setPlaceholderText('options as JSON, e.g. {"model": "/path/to/weights"}')
            grid.addWidget(QLabel(STAGE_LABELS[stage]), row_index, 0)
            grid.addWidget(combo, row_index, 1)
            grid.addWidget(options, row_index, 2)
            self.backends[stage], self.options[stage] = combo, options
        grid.setColumnStretch(2, 1)
        models.addLayout(grid)
        form = QFormLayout()
        self.groundable = QDoubleSpinBox()
        self.box_threshold = QDoubleSpinBox()
        for spin in (self.groundable, self.box_threshold):
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
        self.threads = QSpinBox()
        self.threads.setRange(1, 64)
        self.batch = QSpinBox()
        self.batch.setRange(1, 512)
        for box in (self.groundable, self.box_threshold, self.threads, self.batch):
            box.setMaximumWidth(110)
        form.addRow("Visible-in-image threshold", self.groundable)
        form.addRow("Minimum box score", self.box_threshold)
        form.addRow("CPU threads for models", self.threads)
        form.addRow("Posts per batch (also how soon Cancel takes effect)", self.batch)
        self.engine = QComboBox()
        self.engine.addItems(ENGINES)
        self.engine.setToolTip(
            "local: a worker process on this machine. ray: pipeline workers on a Ray cluster "
            "(needs the 'cluster' extra; see README, 'On a Ray cluster')."
        )
        self.ray_address = QLineEdit()
        self.ray_address.setPlaceholderText("HOST:PORT of the cluster; empty: start Ray on this machine")
        self.ray_workers = QSpinBox()
        self.ray_workers.setRange(0, 4096)
        self.ray_workers.setSpecialValueText("as many as fit")
        self.ray_workers.setMaximumWidth(140)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setToolTip("auto: a GPU when torch sees one, else the CPU")
        form.addRow("Run the pipeline on", self.engine)
        form.addRow("Ray cluster address", self.ray_address)
        form.addRow("Ray pipeline workers", self.ray_workers)
        form.addRow("Models run on (device)", self.device)
        models.addLayout(form)
        column.addWidget(models_card)

        imports_card, imports = card("Imports")
        self.run_after_import = QCheckBox("Run the pipeline after every import")
        self.run_after_import.setToolTip(
            "When an import adds or changes posts, the Jobs page starts the pipeline "
            "on them (a run already going is followed by one more)."
        )
        imports.addWidget(self.run_after_import)
        column.addWidget(imports_card)

        token_card, token = card("X API")
        self.token_state = QLabel()
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Paste a bearer token to save it")
        save_token = QPushButton("Save token")
        save_token.clicked.connect(self._save_token)
        forget = QPushButton("Forget token")
        forget.clicked.connect(self._forget_token)
        row = QHBoxLayout()
        row.addWidget(self.token_edit, 1)
        row.addWidget(save_token)
        row.addWidget(forget)
        token.addWidget(self.token_state)
        token.addLayout(row)
        column.addWidget(token_card)

        self.message = QLabel()
        self.message.setWordWrap(True)
        save = QPushButton("Save settings")
        save.setObjectName("Primary")
        save.clicked.connect(self.save)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(save)
        column.addLayout(bottom)
        column.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # loading -------------------------------------------------------------------------------
    def on_shown(self) -> None:
        if not self._populated:
            self._populated = True
            # Listing backends imports their modules (OpenCV among them): not on the UI thread.
            run_in_pool(lambda: {stage: registry.available(stage) for stage in STAGES}, self.populate)
        else:
            self.refresh_token_state()  # the X import dialog or the CLI may have saved one meanwhile

    def populate(self, backends: dict[str, list[str]]) -> None:
        for stage in STAGES:
            combo = self.backends[stage]
            combo.clear()
            combo.addItems([OFF, *backends[stage]])
        self._fill(self.ctx.settings.state)
        self.ctx.settings.changed.connect(self._fill)  # saved here, or the file edited outside the app
        self._show_token(credentials.load_token())
        self.populated.emit()

    def _fill(self, state: SettingsState) -> None:
        """The form shows `state`; a file that cannot be used is reported, with the defaults in the form."""
        settings = state.settings
        for stage in STAGES:
            chosen = settings.pipeline.stage(stage)
            self.backends[stage].setCurrentText(chosen.backend if chosen else OFF)
            self.options[stage].setText(json.dumps(chosen.options) if chosen and chosen.options else "")
        self.groundable.setValue(settings.pipeline.groundable_threshold)
        self.box_threshold.setValue(settings.pipeline.box_threshold)
        self.threads.setValue(settings.threads)
        self.batch.setValue(settings.batch_size)
        self.engine.setCurrentText(settings.engine)
        self.ray_address.setText(settings.ray_address or "")
        self.ray_workers.setValue(settings.ray_workers or 0)
        self.device.setCurrentText(settings.device)
        self.run_after_import.setChecked(settings.run_after_import)
        if state.error is not None:
            self._say(f"{state.error}. Showing defaults; saving will replace the file.", error=True)
        elif self._file_error_shown:
            self._say("")  # the file was fixed outside the app
        self._file_error_shown = state.error is not None

    # saving --------------------------------------------------------------------------------
    def form_settings(self) -> Settings:
        """Settings from the form, checked as every other reader checks them (Settings.validate): a backend
        that cannot run (a required option missing, a model path that does not exist) is refused here, not
        saved to fail later in the worker. SettingsError names the field that is wrong."""
        stages: dict[str, Any] = {}
        for stage in STAGES:
            backend = self.backends[stage].currentText()
            raw = self.options[stage].text().strip()
            try:
                options = json.loads(raw) if raw else {}
            except json.JSONDecodeError as error:
                raise SettingsError(f"{STAGE_LABELS[stage]}: options are not valid JSON ({error.msg})") from None
            if not isinstance(options, dict):
                raise SettingsError(f"{STAGE_LABELS[stage]}: options must be a JSON object")
            stages[stage] = None if backend == OFF else StageConfig(backend, options)
        # what the form does not show (the text reader) is kept as the settings have it
        pipeline = replace(
            self.ctx.settings.settings.pipeline,
            **stages,
            groundable_threshold=self.groundable.value(),
            box_threshold=self.box_threshold.value(),
        )
        settings = Settings(
            pipeline=pipeline,
            threads=self.threads.value(),
            batch_size=self.batch.value(),
            engine=self.engine.currentText(),
            ray_address=self.ray_address.text().strip() or None,
            ray_workers=self.ray_workers.value() or None,
            device=self.device.currentText(),
            run_after_import=self.run_after_import.isChecked(),
            extra=self.ctx.settings.settings.extra,
        )
        try:
            return settings.validate()
        except SettingsError as error:
            stage_label = next((STAGE_LABELS[s] for s in STAGES if str(error).startswith(f"pipeline.{s}:")), None)
            raise SettingsError(f"{stage_label}: {error}" if stage_label else str(error)) from None

    def save(self) -> None:
        try:
            settings = self.form_settings()
        except SettingsError as error:
            self._say(f"Not saved: {error}", error=True)
            return
        changed = settings.pipeline.key() != self.ctx.settings.settings.pipeline.key()
        try:
            self.ctx.settings.save(settings)  # the Jobs page and the status bar follow its `changed` signal
        except OSError as error:
            self._say(f"Not saved: {describe_write_error(self.ctx.paths.settings_file, error)}", error=True)
            return
        self._say(
            "Saved."
            + (
                " The pipeline configuration changed: run the pipeline (Jobs) to process posts with it."
                if changed
                else ""
            )
        )

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.message.setText(text)

    # token and folder ----------------------------------------------------------------------
    def _save_token(self) -> None:
        try:
            where = credentials.save_token(self.token_edit.text())
        except (ValueError, OSError) as error:
            self._say(f"Token not saved: {error}", error=True)
            return
        self.token_edit.clear()
        self._show_token(credentials.load_token(), where)

    def _forget_token(self) -> None:
        credentials.forget_token()
        self.refresh_token_state()  # $GROUNDLENS_X_TOKEN, if set, still provides one: say so

    def refresh_token_state(self) -> None:
        """Read the token where runs read it (environment, keyring, file) off the UI thread: a keyring
        may be slow to answer."""
        run_in_pool(credentials.load_token, self._show_token)

    def _show_token(self, token: str | None, where: str | None = None) -> None:
        self.token_state.setText(f"Bearer token: {credentials.masked(token)}" + (f" (in {where})" if where else ""))
        self.token_shown.emit()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", str(self.ctx.paths.data_dir))
        if folder:
            self.data_folder_requested.emit(Path(folder))
