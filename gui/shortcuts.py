"""Every keyboard shortcut in one table: the main window binds from it and the shortcut sheet
(and docs/GUI.md) list it, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    action: str
    keys: tuple[str, ...]  # QKeySequence strings
    description: str
    group: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("next_post", ("J",), "Next post (↓ also works in the feed)", "Feed"),
    Shortcut("previous_post", ("K",), "Previous post (↑ also works in the feed)", "Feed"),
    Shortcut("focus_search", ("Ctrl+F", "/"), "Focus the search bar", "Search"),
    Shortcut("clear_search", ("Ctrl+Shift+F",), "Clear the search (show every post)", "Search"),
    Shortcut("toggle_masks", ("M",), "Show / hide masks", "Image"),
    Shortcut("toggle_boxes", ("B",), "Show / hide boxes", "Image"),
    Shortcut("toggle_labels", ("L",), "Show / hide labels", "Image"),
    Shortcut("toggle_gold", ("G",), "Show / hide gold annotations", "Image"),
    Shortcut("zoom_in", ("+", "="), "Zoom in", "Image"),
    Shortcut("zoom_out", ("-",), "Zoom out", "Image"),
    Shortcut("zoom_fit", ("0",), "Fit image to view", "Image"),
    Shortcut("zoom_actual", ("1",), "Actual pixels (1:1)", "Image"),
    Shortcut("edit_boxes", ("E",), "Box-edit mode: drag to draw a box, drag a box to move it", "Image"),
    Shortcut("correct_type", ("T",), "Change the selected entity's type", "Corrections"),
    Shortcut("correct_span", ("S",), "Set the selected entity's span to the selected text", "Corrections"),
    Shortcut("add_entity", ("A",), "Add the selected text as an entity (pick its type)", "Corrections"),
    Shortcut("delete_entity", ("Del",), "Delete the selected entity (a false one)", "Corrections"),
    Shortcut("mark_in_image", ("I",), "Say the selected entity is in the image", "Corrections"),
    Shortcut("mark_not_in_image", ("Shift+I",), "Say the selected entity is not in the image", "Corrections"),
    Shortcut("undo", ("Ctrl+Z",), "Undo the last correction", "Corrections"),
    Shortcut("redo", ("Ctrl+Shift+Z",), "Redo the correction undone", "Corrections"),
    Shortcut("page_explore", ("Ctrl+1",), "Explore (feed + inspector)", "Views"),
    Shortcut("page_search", ("Ctrl+2",), "Search results", "Views"),
    Shortcut("page_entity", ("Ctrl+3",), "Entity page", "Views"),
    Shortcut("page_trends", ("Ctrl+4",), "Trends", "Views"),
    Shortcut("page_jobs", ("Ctrl+5",), "Jobs (import, pipeline)", "Views"),
    Shortcut("page_settings", ("Ctrl+6",), "Settings", "Views"),
    Shortcut("page_corrections", ("Ctrl+7",), "Corrections (every correction, filterable, revertible)", "Views"),
    Shortcut("import_files", ("Ctrl+O",), "Import files…", "Jobs"),
    Shortcut("shortcut_sheet", ("?", "F1"), "This shortcut sheet", "Help"),
)


def shortcuts_markdown() -> str:
    """The table for docs/GUI.md."""
    lines = ["| Keys | Action |", "|---|---|"]
    for shortcut in SHORTCUTS:
        keys = " or ".join(f"`{key}`" for key in shortcut.keys)
        lines.append(f"| {keys} | {shortcut.description} |")
    return "\n".join(lines)
