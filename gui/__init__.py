"""The PySide6 desktop app: views read through storage/ and start work through core/ (docs/GUI.md)."""
