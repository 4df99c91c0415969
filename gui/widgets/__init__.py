"""Reusable widgets the views are built from."""
