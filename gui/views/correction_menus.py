"""The inspector's correction menus: what a right-click on a chip, a span, the selected text or a
region of the image offers, and the menus its correction keys open. Each entry calls one of the
inspector's correction actions (InspectorView.change_type, fix_span, ...), which store it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu

from groundlens.gui.models.presentation import Overlay
from groundlens.gui.theme import TYPE_NAMES
from groundlens.records import ENTITY_TYPES, BoxTuple

if TYPE_CHECKING:
    from groundlens.gui.views.inspector import InspectorView


def popup(menu: QMenu, where: QPoint) -> None:
    """Show a context menu without blocking (tests and shortcuts go on); it is deleted once closed."""
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.popup(where)


def _add_types(menu: QMenu, choose: Callable[[str], None], current: str = "") -> None:
    """One entry per entity type ("ORG — Organisation"); the current one disabled."""
    for entity_type in ENTITY_TYPES:
        action = menu.addAction(f"{entity_type} — {TYPE_NAMES[entity_type]}", partial(choose, entity_type))
        action.setEnabled(entity_type != current)


def entity_menu(view: InspectorView, key: str) -> QMenu:
    """Corrections for the entity under the pointer (none for "") and for the selected text."""
    menu = QMenu(view)
    entity = view.entity(key)
    selection = view.text.selected_range()
    chosen = view.bundle.post.text[selection[0] : selection[1]] if selection and view.bundle else ""
    if entity is not None:
        menu.addSection(f"{entity.text} ({entity.type})")
        _add_types(menu.addMenu("Change type (T)"), partial(view.change_type, key), entity.type)
        if selection:
            menu.addAction(f"Set span to “{chosen}” (S)", partial(view.fix_span, key, *selection))
        menu.addAction("In image (I)", partial(view.mark_in_image, key, True))
        menu.addAction("Not in image (Shift+I)", partial(view.mark_in_image, key, False))
        if entity.regions:
            menu.addAction("Reject its boxes", partial(view.reject_box, key, None))
        menu.addAction("Delete: not an entity (Del)", partial(view.delete_entity, key))
        menu.addAction("Open entity page", partial(view.entity_opened.emit, entity.norm))
    if selection:
        _add_types(menu.addMenu(f"Add “{chosen}” as (A)"), partial(view.add_entity, *selection))
    if menu.isEmpty():
        menu.addAction("Select text to add a missed entity").setEnabled(False)
    return menu


def region_menu(view: InspectorView, overlay: Overlay | None) -> QMenu:
    """Corrections for a region of the image: reject an entity's box, name a detected person."""
    menu = QMenu(view)
    entity = view.entity(overlay.key) if overlay is not None and overlay.kind == "entity" else None
    if overlay is None:
        menu.addAction("Edit boxes (E): drag to draw one", lambda: view.canvas.set_edit_mode(True))
    elif entity is not None:
        menu.addSection(f"{entity.text} ({entity.type})")
        menu.addAction("Reject this box", partial(view.reject_box, overlay.key, overlay.box))
        menu.addAction("Not in image", partial(view.mark_in_image, overlay.key, False))
    elif overlay.kind == "unidentified":
        menu.addSection("This is…")
        people = sorted(view.predicted(), key=lambda keyed: keyed[1].type != "PER")
        for key, named in people:
            menu.addAction(f"{named.text} ({named.type})", partial(view.name_person, key, overlay.box))
        if not people:
            menu.addAction("Add the name in the text first (select it, A)").setEnabled(False)
    return menu


def box_owner_menu(view: InspectorView, box: BoxTuple) -> QMenu:
    """Whose box a box drawn with no entity selected is."""
    menu = QMenu(view)
    menu.addSection("Box for…")
    for key, entity in view.predicted():
        menu.addAction(f"{entity.text} ({entity.type})", partial(view.set_box, key, box))
    return menu


def type_menu(view: InspectorView) -> QMenu:
    """`T`: the selected entity's new type."""
    menu = QMenu(view)
    entity = view.entity(view.selected_key())
    _add_types(menu, partial(view.change_type, view.selected_key()), entity.type if entity else "")
    return menu


def add_menu(view: InspectorView) -> QMenu:
    """`A`: the type of the selected text, added as an entity."""
    menu = QMenu(view)
    selection = view.text.selected_range()
    if selection is None:
        menu.addAction("Select text to add first").setEnabled(False)
    else:
        _add_types(menu, partial(view.add_entity, *selection))
    return menu
