"""The strips around the image: zoom, layer toggles and mask opacity above it; the type legend
(which doubles as per-type toggles) and gold vs predictions below it. They drive an ImageCanvas."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QSlider, QToolBar, QWidget

from groundlens.gui.theme import GOLD_COLOR, TYPE_COLORS, TYPE_NAMES, changes, per_instance, scheme
from groundlens.gui.widgets.image_canvas import FINDING_LAYERS, LAYERS, ImageCanvas


def dot_icon(color: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


def _toggle(text: str, tip: str, checked: bool = True) -> QPushButton:
    button = QPushButton(text)
    button.setCheckable(True)
    button.setChecked(checked)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class OverlayBar(QToolBar):
    """A toolbar, so that on a narrow screen what does not fit moves behind its » button."""

    def __init__(self, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OverlayBar")
        self.setMovable(False)
        self.canvas = canvas

        for text, tip, slot in (
            ("Fit", "Fit the image to the view (0)", canvas.fit),
            ("1:1", "Actual pixels", canvas.actual_size),
            ("−", "Zoom out (-)", canvas.zoom_out),
            ("+", "Zoom in (+)", canvas.zoom_in),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            self.addWidget(button)
        self.zoom_label = QLabel("100%")
        self.zoom_label.setObjectName("Muted")
        self.zoom_label.setMinimumWidth(44)
        canvas.zoom_changed.connect(lambda scale: self.zoom_label.setText(f"{scale * 100:.0f}%"))
        self.addWidget(self.zoom_label)
        self.addSeparator()

        self.layer_buttons: dict[str, QPushButton] = {}
        for layer, key in zip(LAYERS, "MBL"):
            button = _toggle(layer.capitalize(), f"Show {layer} ({key})")
            button.toggled.connect(lambda on, name=layer: canvas.set_layer_visible(name, on))
            self.layer_buttons[layer] = button
            self.addWidget(button)
        self.addSeparator()
        tips = {
            "text": "Show the text read in the image (OCR), with its confidence",
            "unidentified": "Show people and objects detected but tied to no name",
        }
        for layer, title in FINDING_LAYERS.items():
            button = _toggle(title, tips[layer], checked=canvas.layers[layer])
            button.toggled.connect(lambda on, name=layer: canvas.set_layer_visible(name, on))
            self.layer_buttons[layer] = button
            self.addWidget(button)
        self.addSeparator()
        self.edit_button = _toggle(
            "Edit boxes",
            "Box-edit mode (E): drag on the image to draw a box, drag a box to move it; right-click a box to reject it",
            checked=False,
        )
        self.edit_button.toggled.connect(canvas.set_edit_mode)
        canvas.edit_mode_changed.connect(self.edit_button.setChecked)
        self.addWidget(self.edit_button)

        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.addWidget(QLabel("Opacity "))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(canvas.mask_opacity * 100))
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("Mask opacity")
        self.opacity.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity.valueChanged.connect(lambda value: canvas.set_mask_opacity(value / 100))
        self.addWidget(self.opacity)

    def toggle_layer(self, layer: str) -> None:
        """Keyboard path: flip the button so it and the canvas never disagree."""
        self.layer_buttons[layer].toggle()


class LegendBar(QToolBar):
    """The colour legend under the image; each entry also shows or hides that type's regions."""

    def __init__(self, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OverlayBar")
        self.setMovable(False)
        self.addWidget(label_widget := QLabel("Legend  "))
        label_widget.setObjectName("Muted")
        self.type_buttons: dict[str, QPushButton] = {}
        for entity_type in TYPE_COLORS:
            button = _toggle(entity_type, f"{TYPE_NAMES[entity_type]}: show or hide its regions")
            button.toggled.connect(lambda on, t=entity_type: canvas.set_type_visible(t, on))
            self.type_buttons[entity_type] = button
            self.addWidget(button)
        self._show_colors()
        changes().changed.connect(self._show_colors)
        self.gold_button = _toggle("Gold", "Show gold annotations (dashed) beside predictions (G)", checked=False)
        self.gold_button.setIcon(dot_icon(GOLD_COLOR))
        self.gold_button.toggled.connect(canvas.set_gold_visible)
        self.addWidget(self.gold_button)

    def _show_colors(self) -> None:
        """Type dots in the types' colours; grey with per-instance colours on, where colour means one entity."""
        for entity_type, button in self.type_buttons.items():
            button.setIcon(dot_icon(scheme().muted if per_instance() else TYPE_COLORS[entity_type]))
