"""Screenshots of every tab, the lessons panel beside each, and the Draw tab's dialogs, in a real
X window.

    xvfb-run -a -s "-screen 0 1920x1200x24" env QT_QPA_PLATFORM=xcb \\
        nice -n 5 .venv/bin/python benchmarks/tab_shots.py [--out DIR]

The main window as ``main.py`` builds it (a fresh data folder, the bundled model), a 7 drawn on
the Draw and Inside-the-network canvases, one short run trained in the Training tab, then:

- ``tab-<tab>-<size>.png``: each tab at 1024x700 and 1280x800 (the window's own pixels);
- ``lessons-list-<size>.png`` and ``lessons-<tab>-<size>.png``: the lessons panel, its list and
  then a lesson that uses each tab beside it (the screen around the window and the panel: below
  1275 px the panel floats over the window's edge);
- ``attack-<method>.png``: *Fool the model* flipping the drawn 7 (FGSM, fewest pixels);
- ``compare.png``: *Side by side* and *Turn it*, the bundled CNN against an MLP just trained.

The pictures are for looking at (the layout tests check the same sizes by rule); they go to
``/tmp/team/shots`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.why_shots import SIZES, parse_out, settle, shown_main_window, wait  # noqa: E402

SEVEN = ((0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8))
TAB_NAMES = ("loss", "training", "draw", "inside")
# The lesson shown beside each tab (its place in the catalog): the seed's two losses, train the
# seed's network, fool the model, vanishing gradients.
LESSON_BESIDE = {"loss": 0, "training": 2, "draw": 8, "inside": 4}


def draw_seven(window) -> None:  # noqa: ANN001
    from gui.draw.draw_canvas import Stroke

    draw = window.draw_tab
    wait(lambda: draw.ood_pending)
    draw.canvas.add_stroke(Stroke(SEVEN, 0.065))
    draw.update_now()
    inside = window.inside_tab
    inside.canvas.add_stroke(Stroke(SEVEN, 0.065))
    settle(1.0)


def train_short_run(window) -> None:  # noqa: ANN001
    tab = window.training_tab
    tab.data_panel.use_sample()
    tab.epochs_spin.setValue(2)
    tab.start()
    wait(lambda: tab.is_running)
    settle(1.0)


def keep_an_mlp(window) -> str:  # noqa: ANN001
    """The seed's MLP, trained 3 epochs on the sample, kept in the library (for Side by side)."""
    from core.data.mnist import load_sample
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer

    run = Trainer(TrainConfig(model="mlp", epochs=3), data=load_sample()).run()
    return window.state.library.add(run.result.checkpoint, source="trained").name


def grab_screen_around(widgets, path: Path) -> None:  # noqa: ANN001
    """The screen's pixels around the visible ``widgets`` (frames included): a floating dock is
    another top-level window, which ``QWidget.grab`` of the main window would leave out."""
    from PySide6.QtGui import QGuiApplication

    area = None
    for widget in widgets:
        if widget is not None and widget.isVisible():
            frame = widget.frameGeometry()
            area = frame if area is None else area.united(frame)
    screen = QGuiApplication.primaryScreen()
    shot = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
    shot.save(str(path))


def shoot_tabs(window, out: Path, size_name: str) -> None:  # noqa: ANN001
    for index, name in enumerate(TAB_NAMES):
        window.tabs.setCurrentIndex(index)
        settle()
        path = out / f"tab-{name}-{size_name}.png"
        window.grab().save(str(path))
        print(f"saved {path}", flush=True)


def shoot_lessons(window, out: Path, size_name: str) -> None:  # noqa: ANN001
    dock = window.lessons_dock
    if not dock.isVisible():
        dock.action.trigger()
    settle(1.0)
    dock.panel.show_lesson(None)
    settle()
    grab_screen_around([window, dock], out / f"lessons-list-{size_name}.png")
    lessons = dock.state.lessons
    for index, name in enumerate(TAB_NAMES):
        window.tabs.setCurrentIndex(index)
        dock.panel.show_lesson(lessons[LESSON_BESIDE[name]].id)
        settle()
        path = out / f"lessons-{name}-{size_name}.png"
        grab_screen_around([window, dock], path)
        print(f"saved {path}", flush=True)
    dock.panel.show_lesson(None)
    dock.action.trigger()
    settle()


def shoot_dialogs(window, out: Path) -> None:  # noqa: ANN001
    draw = window.draw_tab
    window.tabs.setCurrentWidget(draw)
    settle()
    dialog = draw.show_attack()
    for method in ("fgsm", "pixels"):
        wait(lambda: dialog.is_running)
        if dialog.method_box.currentData() != method:
            dialog.method_box.setCurrentIndex(dialog.method_box.findData(method))
            dialog.run_button.click()
            settle(0.2)
            wait(lambda: dialog.is_running)
        settle()
        dialog.grab().save(str(out / f"attack-{method}.png"))
        print(f"saved {out / f'attack-{method}.png'}  ({dialog.status.text()})", flush=True)
    dialog.close()
    keep_an_mlp(window)
    compare = draw.show_compare()
    wait(lambda: compare.result is None)
    settle(1.0)
    compare.grab().save(str(out / "compare.png"))
    print(f"saved {out / 'compare.png'}  ({compare.summary.text()})", flush=True)
    compare.close()


def main() -> int:
    out = parse_out()
    app, window = shown_main_window("tab-shots-")
    out.mkdir(parents=True, exist_ok=True)
    draw_seven(window)
    train_short_run(window)
    for size_name, size in SIZES.items():
        window.resize(*size)
        settle(1.0)
        shoot_tabs(window, out, size_name)
        shoot_lessons(window, out, size_name)
    window.resize(*SIZES["1280x800"])
    shoot_dialogs(window, out)
    window.training_tab.shutdown()
    window.draw_tab.shutdown()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
