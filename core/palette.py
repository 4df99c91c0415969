"""The entity-type colours and names every output shares (the app's views, the HTML report, the network
and its GEXF file), kept free of Qt so that core/ can draw with them too."""

from __future__ import annotations

# Colour-blind-safe hues (Okabe-Ito based), readable as text background at low alpha.
TYPE_COLORS: dict[str, str] = {
    "PER": "#0072B2",
    "LOC": "#009E73",
    "ORG": "#E69F00",
    "OTHER": "#CC79A7",
}
TYPE_NAMES: dict[str, str] = {"PER": "Person", "LOC": "Location", "ORG": "Organisation", "OTHER": "Other"}


def type_hex(entity_type: str) -> str:
    return TYPE_COLORS.get(entity_type, TYPE_COLORS["OTHER"])
