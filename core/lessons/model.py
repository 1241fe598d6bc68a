"""What a lesson is, once its file has been read and checked (``core.lessons.loader``).

A lesson sets the lab up (``setup``), asks for experiments one step at a time, checks each step
with conditions on the app's facts (``core.lessons.conditions``) and explains once done. These
objects are plain and frozen: the loader builds them, the panel and the session read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.lessons.conditions import Condition

TABS = ("loss", "training", "draw", "inside")

# The keys a lesson's [setup] table may hold: key -> (TOML type, meaning). The loader refuses any
# other key; the panel applies them when the learner starts the lesson.
SETUP_KEYS: dict[str, tuple[str, str]] = {
    "tab": ("text", 'the tab to show: "loss", "training", "draw" or "inside"'),
    "pair": ("text", 'Loss playground: the loss pair, e.g. "ce-nll", "bce-logits"'),
    "prediction": ("array", "Loss playground: the prediction tensor, e.g. [[0.1, 2.0, -1.0]]"),
    "target": ("array", "Loss playground: the target tensor, e.g. [1]"),
    "loss_preset": ("text", 'Loss playground: a ready-made case by title, e.g. "Seed example: CE"'),
    "dtype": ("text", 'Loss playground: "float32" or "float64"'),
    "preset": ("text", 'Training: a settings preset, e.g. "vanishing", "dead-relus"'),
    "settings": ("table", 'Training: settings by name, e.g. { model = "cnn", epochs = 2 }'),
}


@dataclass(frozen=True)
class Check:
    """One automatic check: a condition and the words shown beside it in the panel."""

    condition: Condition
    description: str

    @property
    def source(self) -> str:
        return self.condition.source


@dataclass(frozen=True)
class Step:
    """One experiment: what to do, how it is checked (all checks must pass), a hint on request."""

    text: str
    checks: tuple[Check, ...]
    hint: str = ""


@dataclass(frozen=True)
class Lesson:
    """A whole lesson. ``id`` is the file name without ``.toml``; ``source`` says where it came
    from: "bundled" (``resources/lessons``), "yours" (``<data folder>/lessons``) or a path."""

    id: str
    title: str
    text: str  # Markdown-light: paragraphs, **bold**, *italic*, `code`, "- " lists
    steps: tuple[Step, ...]
    explanation: str = ""  # shown once every step is done
    setup: dict[str, Any] = field(default_factory=dict)
    source: str = "bundled"
    path: Path | None = None

    @property
    def check_count(self) -> int:
        """The number of automatic checks, over all steps."""
        return sum(len(step.checks) for step in self.steps)

    def check_keys(self) -> list[str]:
        """Stable keys ``"STEP.CHECK"`` (0-based) of every check, in order (progress uses them)."""
        return [f"{s}.{c}" for s, step in enumerate(self.steps) for c in range(len(step.checks))]
