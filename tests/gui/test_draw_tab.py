"""The Draw tab: mouse strokes give a live answer and the 28x28 preview; files, undo, models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence

from core.checkpoint import Checkpoint, save_checkpoint
from core.models import build_model
from gui.app_state import AppState
from gui.draw_canvas import Stroke
from gui.draw_tab import DEBOUNCE_MS, DrawTab


def checkpoint(name: str = "cnn", accuracy: float | None = 0.9) -> Checkpoint:
    torch.manual_seed(0)
    metrics = {} if accuracy is None else {"test_accuracy": accuracy}
    return Checkpoint.from_model(
        build_model(name), name, "nll", dataset="unit-test data", metrics=metrics
    )


@pytest.fixture
def tab(qtbot):
    state = AppState()
    state.set_current_model(checkpoint(), persist=False)
    widget = DrawTab(state)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def draw(qtbot, canvas, points: list[tuple[float, float]], button=Qt.MouseButton.LeftButton):
    """Drag the mouse through ``points`` given in 0..1 of the canvas square."""
    side = min(canvas.width(), canvas.height())
    left, top = (canvas.width() - side) // 2, (canvas.height() - side) // 2
    pixels = [QPoint(left + int(x * side), top + int(y * side)) for x, y in points]
    qtbot.mousePress(canvas, button, pos=pixels[0])
    for point in pixels[1:]:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, button, pos=pixels[-1])


SEVEN = [(0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8)]


def test_empty_canvas_says_nothing_drawn(tab):
    assert tab.prediction.is_empty
    assert tab.verdict_label.text() == "Nothing drawn"
    assert not tab.input_view.has_image


def test_mouse_strokes_give_a_prediction_and_the_preview(qtbot, tab):
    draw(qtbot, tab.canvas, SEVEN)
    assert len(tab.canvas.strokes) == 1
    assert tab.prediction is not None and not tab.prediction.is_empty
    assert tab.digit_label.text() == str(tab.prediction.digit)
    assert tab.input_view.has_image
    centred = tab.preprocessed.steps["centred"]
    assert centred.shape == (28, 28) and centred.max() == pytest.approx(1.0)
    assert all(view.has_image for view in tab.step_views)
    np.testing.assert_allclose(tab.chart.heights, tab.prediction.probabilities)


def test_answer_follows_the_pen_while_drawing(qtbot, tab):
    canvas = tab.canvas
    side = min(canvas.width(), canvas.height())
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 3, side // 3))
    qtbot.mouseMove(canvas, QPoint(side // 2, side // 2))
    # Before the pen lifts, the debounced update answers within ~50 ms.
    qtbot.waitUntil(lambda: not tab.prediction.is_empty, timeout=DEBOUNCE_MS + 200)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 2, side // 2))


def test_right_button_erases(qtbot, tab):
    draw(qtbot, tab.canvas, SEVEN)
    draw(qtbot, tab.canvas, [(0.2, 0.25), (0.8, 0.25)], Qt.MouseButton.RightButton)
    assert tab.canvas.strokes[-1].erase
    picture = tab.canvas.render_array()
    assert picture[int(0.25 * 280), int(0.5 * 280)] > 250  # the top bar is gone


def test_undo_redo_clear_with_keys(qtbot, tab):
    canvas = tab.canvas
    draw(qtbot, canvas, SEVEN)
    draw(qtbot, canvas, [(0.35, 0.5), (0.65, 0.5)])
    assert len(canvas.strokes) == 2
    canvas.setFocus()
    qtbot.keySequence(canvas, QKeySequence("Ctrl+Z"))
    assert len(canvas.strokes) == 1
    qtbot.keySequence(canvas, QKeySequence("Ctrl+Y"))
    assert len(canvas.strokes) == 2
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.is_blank() and tab.prediction.is_empty
    qtbot.keySequence(canvas, QKeySequence("Ctrl+Z"))  # a clear can be undone too
    assert len(canvas.strokes) == 2
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert canvas.is_blank()
    assert tab.undo_button.isEnabled() and not tab.clear_button.isEnabled()


def test_pen_width_control(qtbot, tab):
    tab.pen_slider.setValue(30)
    draw(qtbot, tab.canvas, SEVEN)
    assert tab.canvas.strokes[-1].width == pytest.approx(30 / 280)


def test_drawing_scales_with_the_window(qtbot, tab):
    tab.canvas.add_stroke(Stroke(((0.2, 0.5), (0.8, 0.5)), 0.05))
    small = tab.canvas.render_array()
    tab.resize(1400, 950)
    qtbot.wait(10)
    assert min(tab.canvas.width(), tab.canvas.height()) >= 280
    np.testing.assert_array_equal(tab.canvas.render_array(), small)


def test_low_confidence_says_not_sure(qtbot, tab):
    model = build_model("mlp")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()  # every digit 10%: the least sure a model can be
    tab.state.set_current_model(Checkpoint.from_model(model, "mlp", "nll"), persist=False)
    draw(qtbot, tab.canvas, SEVEN)
    assert tab.verdict_label.text().startswith("Not sure: ")
    assert tab.verdict_label.text().endswith("?")


def test_preprocessing_switch_shows_the_plain_resize(qtbot, tab):
    draw(qtbot, tab.canvas, [(0.05, 0.05), (0.15, 0.2)])  # small, in a corner
    assert tab.step_labels[2].text() == "centre of mass"
    tab.center_box.setChecked(False)
    assert tab.step_labels[0].text() == "resize 28×28"
    assert tab.step_views[2].isHidden()
    assert set(tab.preprocessed.steps) == {"resized", "normalised"}
    tab.center_box.setChecked(True)
    assert "crop" in tab.preprocessed.steps


def test_saliency_overlay_toggle(qtbot, tab):
    draw(qtbot, tab.canvas, SEVEN)
    assert tab.input_view._overlay is None
    tab.saliency_box.setChecked(True)
    assert tab.input_view._overlay is not None
    tab.saliency_box.setChecked(False)
    assert tab.input_view._overlay is None


def test_model_info_follows_the_app_state(qtbot, tab):
    tab.state.set_current_model(checkpoint("mlp", accuracy=0.975), persist=False)
    assert "MLP" in tab.model_label.text() and "97.5%" in tab.model_label.text()
    assert tab.classifier.checkpoint.model_name == "mlp"


def test_open_image_file_classifies_it(qtbot, tab, tmp_path):
    picture = np.zeros((90, 60), np.uint8)  # light on dark, not square
    picture[20:70, 27:33] = 255
    path = tmp_path / "one.png"
    Image.fromarray(picture).save(path)
    assert tab.open_image(path)
    assert not tab.prediction.is_empty
    assert tab.canvas.render_array()[0, 0] > 200  # shown dark on light, like the paper
    assert tab.open_button.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)


def test_unreadable_file_shows_an_error_in_place(qtbot, tab, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"nope")
    assert not tab.open_image(path)
    assert tab.error_label.isVisible() and "broken.png" in tab.error_label.text()


def test_save_png(qtbot, tab, tmp_path):
    draw(qtbot, tab.canvas, SEVEN)
    path = tmp_path / "digit.png"
    assert tab.save_png(path)
    saved = np.asarray(Image.open(path).convert("L"))
    assert saved.shape == (280, 280)
    np.testing.assert_array_equal(saved, tab.canvas.render_array())
    assert not tab.save_png(tmp_path / "no-such-folder" / "x.png")
    assert tab.error_label.isVisible()


def test_load_model_file(qtbot, tab, tmp_path):
    path = save_checkpoint(checkpoint("mlp", accuracy=0.5), tmp_path / "m.pt")
    assert tab.load_model(path)
    assert tab.state.current_model.model_name == "mlp"
    (tmp_path / "bad.pt").write_text("junk")
    assert not tab.load_model(tmp_path / "bad.pt")
    assert "bad.pt" in tab.error_label.text()


def test_train_button_opens_the_training_tab(qtbot, main_window):
    main_window.tabs.setCurrentWidget(main_window.draw_tab)
    qtbot.mouseClick(main_window.draw_tab.train_button, Qt.MouseButton.LeftButton)
    assert main_window.tabs.currentWidget() is main_window.training_tab


def test_fresh_app_uses_a_model(qtbot, main_window):
    """With no saved model the tab still answers (bundled model, or a labelled untrained one)."""
    tab = main_window.draw_tab
    assert tab.classifier is not None
    tab.canvas.add_stroke(Stroke(tuple(SEVEN), 0.065))
    assert not tab.prediction.is_empty


def test_drop_an_image_file(qtbot, tab, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    picture = np.full((120, 120), 255, np.uint8)
    picture[20:100, 55:65] = 0
    path = tmp_path / "dropped.png"
    Image.fromarray(picture).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    tab.dropEvent(event)
    assert tab.canvas.background is not None
    assert not tab.prediction.is_empty


def test_tablet_pen_draws_and_its_eraser_erases(qtbot, tab):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QInputDevice, QPointingDevice, QPointingDeviceUniqueId, QTabletEvent

    def pen(kind: QPointingDevice.PointerType) -> QPointingDevice:
        return QPointingDevice(
            "test pen",
            1,
            QInputDevice.DeviceType.Stylus,
            kind,
            QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
            1,
            3,
            "",
            QPointingDeviceUniqueId(),
            tab,
        )

    def send(device, kind, x: float, y: float) -> None:
        side = min(tab.canvas.width(), tab.canvas.height())
        left = (tab.canvas.width() - side) / 2
        top = (tab.canvas.height() - side) / 2
        point = QPointF(left + x * side, top + y * side)
        event = QTabletEvent(
            kind,
            device,
            point,
            tab.canvas.mapToGlobal(point),
            0.8,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            Qt.KeyboardModifier.NoModifier,
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
        )
        tab.canvas.tabletEvent(event)
        assert event.isAccepted()

    stylus = pen(QPointingDevice.PointerType.Pen)
    for kind, x, y in [
        (QEvent.Type.TabletPress, 0.5, 0.2),
        (QEvent.Type.TabletMove, 0.5, 0.5),
        (QEvent.Type.TabletRelease, 0.5, 0.8),
    ]:
        send(stylus, kind, x, y)
    assert len(tab.canvas.strokes) == 1 and not tab.canvas.strokes[0].erase
    assert not tab.prediction.is_empty
    eraser = pen(QPointingDevice.PointerType.Eraser)
    send(eraser, QEvent.Type.TabletPress, 0.5, 0.1)
    send(eraser, QEvent.Type.TabletRelease, 0.5, 0.9)
    assert tab.canvas.strokes[-1].erase
    assert tab.prediction.is_empty  # the eraser took all the ink


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    import math

    return [
        (
            cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
            cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n)),
        )
        for i in range(n + 1)
    ]


# Ten digits as a person might draw them, strokes in 0..1 of the canvas.
DRAWN_DIGITS = {
    0: [_arc(0.5, 0.5, 0.18, 0.3, 0, 360)],
    1: [[(0.45, 0.25), (0.52, 0.2), (0.52, 0.8)]],
    2: [_arc(0.5, 0.35, 0.17, 0.14, 200, 380) + [(0.35, 0.78), (0.68, 0.78)]],
    3: [_arc(0.5, 0.35, 0.15, 0.13, 200, 450), _arc(0.5, 0.63, 0.17, 0.15, 270, 500)],
    4: [[(0.58, 0.2), (0.32, 0.6), (0.7, 0.6)], [(0.58, 0.35), (0.58, 0.82)]],
    5: [[(0.66, 0.22), (0.4, 0.22), (0.37, 0.47)] + _arc(0.5, 0.62, 0.17, 0.17, 240, 500)],
    6: [[(0.6, 0.2), (0.45, 0.35), (0.36, 0.55)] + _arc(0.5, 0.64, 0.15, 0.15, 180, 540)],
    7: [[(0.32, 0.22), (0.68, 0.22), (0.45, 0.8)]],
    8: [_arc(0.5, 0.34, 0.13, 0.13, 0, 360), _arc(0.5, 0.64, 0.16, 0.16, 0, 360)],
    9: [_arc(0.5, 0.36, 0.15, 0.14, 0, 360), [(0.65, 0.36), (0.6, 0.8)]],
}


@pytest.mark.parametrize(("scale", "offset"), [(1.0, (0, 0)), (0.4, (0.25, 0.2))])
def test_bundled_model_reads_drawn_digits_anywhere(qtbot, scale, offset):
    """End to end: canvas strokes -> preprocessing -> the bundled default model."""
    from core.checkpoint import load_checkpoint
    from core.resources import bundled_model_file

    state = AppState()
    state.set_current_model(load_checkpoint(bundled_model_file()), persist=False)
    tab = DrawTab(state)
    qtbot.addWidget(tab)
    correct = 0
    for digit, strokes in DRAWN_DIGITS.items():
        tab.canvas.clear()
        for points in strokes:
            moved = tuple(
                ((x - 0.5) * scale + 0.5 + offset[0], (y - 0.5) * scale + 0.5 + offset[1])
                for x, y in points
            )
            tab.canvas.add_stroke(Stroke(moved, 18 / 280))
        correct += tab.prediction.digit == digit
    assert correct >= 9
