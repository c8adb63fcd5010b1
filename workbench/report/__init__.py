"""Run reports: one self-contained plotly HTML page per run (``write_report``)."""

from __future__ import annotations

from workbench.report.html import BlockStats, render, write_report

__all__ = ["BlockStats", "render", "write_report"]
