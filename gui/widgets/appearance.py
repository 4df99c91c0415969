"""Settings → Appearance: how entities are coloured. Applied at once and kept per user (QSettings), apart
from the pipeline settings that "Save settings" writes, since it changes no result."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFrame

from groundlens.gui.theme import per_instance, set_per_instance
from groundlens.gui.widgets.common import card, label


def appearance_card() -> tuple[QFrame, QCheckBox]:
    """The card, and its per-instance colours switch."""
    frame, layout = card("Appearance")
    switch = QCheckBox("Give each entity of a post its own colour (two people in one photo get two colours)")
    switch.setChecked(per_instance())
    switch.toggled.connect(set_per_instance)
    layout.addWidget(switch)
    note = label(
        "Off: colours by type (person, place, organisation, other). Light or dark follows your "
        "system's setting. Both apply at once.",
        "Muted",
    )
    note.setWordWrap(True)
    layout.addWidget(note)
    return frame, switch
