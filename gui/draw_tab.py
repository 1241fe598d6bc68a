"""Placeholder until its issue lands."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class DrawTab(QWidget):
    def __init__(self, state, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Coming soon"))
