"""The shareable HTML report over a search or a selection (`report` command, the app's Report action)."""

from groundlens.core.report.data import ReportData, gather
from groundlens.core.report.render import render, write_report

__all__ = ["ReportData", "gather", "render", "write_report"]
