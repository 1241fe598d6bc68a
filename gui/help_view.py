"""The Help menu's pages, read from the README: one text for the learner, wherever it is read.

The README's "Your first five minutes" and "Keyboard" sections are what the Help menu shows
(``HELP_TOPICS``), so a shortcut or a step changed there changes here, and a test checks both
against the app. The README ships beside the app (the repository root; ``README.md`` in the
packaged bundle's root); pictures it names are shown when their files are there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from core.resources import app_root


@dataclass(frozen=True)
class HelpTopic:
    """One Help menu entry: its menu text, shortcut and the README heading it shows."""

    menu_text: str
    shortcut: str
    heading: str


HELP_TOPICS = (
    HelpTopic("Your &first five minutes", "F1", "Your first five minutes"),
    HelpTopic("&Keyboard shortcuts", "Ctrl+/", "Keyboard"),
)
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def readme_file() -> Path:
    return app_root() / "README.md"


def readme_section(heading: str, text: str | None = None) -> str:
    """The Markdown under ``## heading`` (or ``###``) up to the next heading of its level or
    above, without the heading line; "" when the README or the section is missing."""
    if text is None:
        try:
            text = readme_file().read_text(encoding="utf-8")
        except OSError:
            return ""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        match = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if match and match.group(2) == heading:
            level = len(match.group(1))
            body = []
            for following in lines[start + 1 :]:
                other = re.match(r"^(#{1,6})\s", following)
                if other and len(other.group(1)) <= level:
                    break
                body.append(following)
            return "\n".join(body).strip()
    return ""


def without_missing_images(markdown: str, root: Path) -> str:
    """Drop the picture lines whose files are not there (the packaged app has no screenshots)."""

    def keep(match: re.Match[str]) -> str:
        return match.group(0) if (root / match.group(1)).is_file() else ""

    return _IMAGE.sub(keep, markdown)


class HelpDialog(QDialog):
    """A README section in a window of its own (non-modal: read it while trying it)."""

    def __init__(self, topic: HelpTopic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.topic = topic
        self.setWindowTitle(topic.heading)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(app_root())])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 620)
        self.refresh()

    def refresh(self) -> None:
        markdown = readme_section(self.topic.heading)
        if not markdown:
            markdown = (
                f"The README's *{self.topic.heading}* section could not be read ({readme_file()})."
            )
        self.markdown = without_missing_images(markdown, app_root())
        self.browser.setMarkdown(self.markdown)
