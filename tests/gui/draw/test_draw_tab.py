"""The Draw tab: mouse strokes give a live answer and the 28x28 preview; files, undo, models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence

from core.errors import UserError
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.models import build_model
from gui.app_state import AppState
from gui.draw.draw_canvas import Stroke
from gui.draw.draw_tab import DEBOUNCE_MS, DrawTab
from tests.helpers import make_draw_tab, random_checkpoint


def checkpoint(name: str = "cnn", accuracy: float | None = 0.9) -> Checkpoint:
    return random_checkpoint(name, dataset="unit-test data", accuracy=accuracy)


make_tab = make_draw_tab  # shared with test_own_digits_view through tests.helpers


@pytest.fixture
def tab(qtbot):
    state = AppState()
    state.set_current_model(checkpoint(), persist=False)
    yield make_tab(qtbot, state)


@pytest.fixture
def bundled_tab(qtbot):
    from core.resources import bundled_model_file
    from core.storage.checkpoint import load_checkpoint

    state = AppState()
    state.set_current_model(load_checkpoint(bundled_model_file()), persist=False)
    yield make_tab(qtbot, state)


def open_file(qtbot, tab, path) -> bool:
    """Open ``path`` as the Open button does; wait for the worker thread's answer."""
    with qtbot.waitSignal(tab.pictureOpened, timeout=60_000) as blocker:
        tab.open_image(path)
    return blocker.args[0]


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
    assert tab.step_labels[2].text() == "centre"
    tab.center_box.setChecked(False)
    assert tab.step_labels[0].text() == "resize"
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
    assert open_file(qtbot, tab, path)
    assert not tab.prediction.is_empty
    assert tab.canvas.render_array()[0, 0] > 200  # shown dark on light, like the paper
    assert tab.open_button.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)


def test_unreadable_file_shows_an_error_in_place(qtbot, tab, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"nope")
    assert not open_file(qtbot, tab, path)
    assert tab.error_label.isVisible() and "broken.png" in tab.error_label.text()
    assert tab.open_button.isEnabled() and tab.opener.opening is None


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
    """With no saved model the window answers with the bundled model: fails without it (an
    untrained stand-in would still answer something, so answering is not enough)."""
    tab = main_window.draw_tab
    assert tab.classifier is not None
    assert tab.classifier.checkpoint.summary() == load_bundled().summary()
    assert main_window.state.startup_note == ""
    tab.canvas.add_stroke(Stroke(tuple(SEVEN), 0.065))
    tab.update_now()
    assert tab.prediction.digit == 7


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
    with qtbot.waitSignal(tab.pictureOpened, timeout=60_000):
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
    from core.resources import bundled_model_file
    from core.storage.checkpoint import load_checkpoint

    state = AppState()
    state.set_current_model(load_checkpoint(bundled_model_file()), persist=False)
    tab = make_tab(qtbot, state)
    correct = 0
    flagged = 0
    for digit, strokes in DRAWN_DIGITS.items():
        tab.canvas.clear()
        for points in strokes:
            moved = tuple(
                ((x - 0.5) * scale + 0.5 + offset[0], (y - 0.5) * scale + 0.5 + offset[1])
                for x, y in points
            )
            tab.canvas.add_stroke(Stroke(moved, 18 / 280))
        correct += tab.prediction.digit == digit
        flagged += not tab.prediction.looks_like_digit
    assert correct >= 9
    assert flagged <= 1  # drawn digits are digits: "not a digit" must stay rare on them


# ------------------------------------------------------------ one path, honest answers, files
def _photo_of_a_digit(path, digit: np.ndarray) -> None:
    """A digit as a phone photo would hold it: large, grey paper, noise, JPEG."""
    rng = np.random.default_rng(3)
    ink = np.asarray(Image.fromarray(255 - digit).resize((700, 700), Image.Resampling.BILINEAR))
    paper = np.full((1100, 1500), 215.0)
    paper[200:900, 400:1100] = ink.astype(float) * 215.0 / 255.0
    paper += rng.normal(0, 6, paper.shape)
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).save(path, quality=85)


def test_same_file_same_probabilities_in_the_draw_tab_and_the_cli(qtbot, tab, tmp_path, capsys):
    import json

    from cli import main as cli_main
    from core.data.mnist import load_sample

    path = tmp_path / "photo.jpg"
    _photo_of_a_digit(path, load_sample().test_images[0].numpy())
    model = save_checkpoint(tab.classifier.checkpoint, tmp_path / "m.pt")
    assert open_file(qtbot, tab, path)
    drawn = tab.prediction
    assert cli_main(["classify", str(path), "--model", str(model), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(record["probabilities"], drawn.probabilities, atol=2e-6)
    assert record["looks_like_digit"] == drawn.looks_like_digit
    assert record["ood_score"] == pytest.approx(drawn.ood_score, abs=1e-3)


def test_a_dot_is_not_a_digit_and_the_bars_turn_grey(qtbot, bundled_tab):
    tab = bundled_tab
    tab.canvas.add_stroke(Stroke(((0.5, 0.5),), 18 / 280))
    assert not tab.prediction.looks_like_digit
    assert tab.verdict_label.text() == "Not a digit?"
    assert "does not look like a digit to the model" in tab.detail_label.text()
    assert tab.chart.greyed and tab.digit_label.text() == "?"
    tab.clear()
    draw(qtbot, tab.canvas, SEVEN)
    assert tab.prediction.looks_like_digit and not tab.chart.greyed


def test_bars_show_their_values_and_logits_on_demand(qtbot, tab):
    assert tab.chart.value_texts() == [""] * 10
    draw(qtbot, tab.canvas, SEVEN)
    texts = tab.chart.value_texts()
    assert all(t.endswith("%") for t in texts)
    top = tab.prediction.digit
    assert texts[top] == f"{tab.prediction.probabilities[top]:.0%}"
    assert tab.chart.axis_title == "probability"
    tab.logits_box.setChecked(True)
    assert tab.chart.value_texts() == [f"{v:.1f}" for v in tab.prediction.logits]
    # The logits are plotted on an axis of their own, never on the probability scale.
    assert tab.chart.axis_title.startswith("logit")
    np.testing.assert_allclose(tab.chart.bar_heights(), tab.prediction.logits)
    low, high = tab.chart.getPlotItem().getViewBox().viewRange()[1]
    assert low <= min(tab.prediction.logits) and high >= max(tab.prediction.logits)
    tab.logits_box.setChecked(False)
    assert tab.chart.axis_title == "probability"
    np.testing.assert_allclose(tab.chart.bar_heights(), tab.prediction.probabilities)


def test_saliency_has_a_scale_that_names_its_peak(qtbot, tab):
    draw(qtbot, tab.canvas, SEVEN)
    tab.saliency_box.setChecked(True)
    assert tab.heat_scale.isVisible() and tab.saliency_peak > 0
    assert f"{tab.saliency_peak:.2g}" in tab.heat_scale_label.text()
    tab.saliency_box.setChecked(False)
    assert not tab.heat_scale.isVisible()


def test_input_changed_carries_the_models_input(qtbot, tab):
    seen = []
    tab.inputChanged.connect(seen.append)
    draw(qtbot, tab.canvas, SEVEN)
    assert seen and seen[-1].shape == (28, 28) and seen[-1].dtype == np.float32
    np.testing.assert_array_equal(seen[-1], tab.preprocessed.tensor[0].numpy())
    tab.clear()
    assert seen[-1] is None


def test_show_digit_puts_a_labelled_data_set_digit_on_the_canvas(qtbot, bundled_tab):
    from core.data.mnist import load_sample

    data = load_sample()
    bundled_tab.show_digit(data.test_images[0].numpy(), int(data.test_labels[0]))
    assert bundled_tab.canvas.background is not None
    assert bundled_tab.prediction.digit == int(data.test_labels[0])
    assert f"Labelled {int(data.test_labels[0])}" in bundled_tab.detail_label.text()
    qtbot.keyClick(bundled_tab.canvas, Qt.Key.Key_Escape)
    draw(qtbot, bundled_tab.canvas, SEVEN)
    assert "Labelled" not in bundled_tab.detail_label.text()


def test_pictures_are_decoded_off_the_gui_thread(qtbot, tab, tmp_path, monkeypatch):
    import threading

    import gui.draw.picture_opener as opener

    threads = []
    real = opener.read_picture

    def spy(path, **kwargs):
        threads.append(threading.current_thread())
        return real(path, **kwargs)

    monkeypatch.setattr(opener, "read_picture", spy)
    path = tmp_path / "big.png"
    picture = np.full((3000, 3000), 255, np.uint8)
    picture[600:2400, 1400:1600] = 0
    Image.fromarray(picture).save(path)
    with qtbot.waitSignal(tab.pictureOpened, timeout=60_000):
        tab.open_image(path)
        assert not tab.open_button.isEnabled()  # busy until the worker answers
    assert threads and threads[0] is not threading.main_thread()
    assert tab.prediction.digit >= 0 and tab.open_button.isEnabled()
    assert tab.canvas.render_side <= 1024


def test_a_blank_picture_is_said_in_words(qtbot, tab, tmp_path):
    path = tmp_path / "white.png"
    Image.fromarray(np.full((1500, 1500), 250, np.uint8)).save(path)
    assert open_file(qtbot, tab, path)
    assert tab.prediction.is_empty
    assert "white.png is blank" in tab.error_label.text()


def test_save_dialog_adds_the_extension_and_remembers_the_folder(qtbot, tab, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    folder = tmp_path / "drawings"
    folder.mkdir()
    asked = []

    def fake_save(parent, title, start, file_filter):
        asked.append(start)
        return str(folder / "noext"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    draw(qtbot, tab.canvas, SEVEN)
    tab.save_png_dialog()
    assert (folder / "noext.png").is_file()
    tab.save_png_dialog()
    assert asked[-1].startswith(str(folder))


def test_out_of_range_pen_setting_is_clamped(qtbot):
    from PySide6.QtCore import QSettings

    QSettings().setValue("draw/pen", "99999999999999999999")
    state = AppState()
    state.set_current_model(checkpoint(), persist=False)
    tab = make_tab(qtbot, state)
    assert tab.pen_slider.value() == tab.pen_slider.maximum()


def test_calibrated_probabilities_can_be_compared_with_the_raw_softmax(qtbot):
    scaled = checkpoint()
    scaled.temperature = 2.0
    state = AppState()
    state.set_current_model(scaled, persist=False)
    tab = make_tab(qtbot, state)
    assert tab.calibrated_box.isChecked() and "T = 2.00" in tab.calibrated_box.text()
    tab.canvas.add_stroke(Stroke(tuple(SEVEN), 0.065))
    tab.update_now()
    calibrated = np.array(tab.prediction.probabilities)
    tab.calibrated_box.setChecked(False)
    raw = np.array(tab.prediction.probabilities)
    assert tab.prediction.digit == int(np.argmax(calibrated))  # the answer never changes
    logits = np.array(tab.prediction.logits)
    assert np.allclose(raw, np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum())
    assert raw.max() > calibrated.max()  # T > 1 softens the confidence
    tab.calibrated_box.setChecked(True)
    assert np.allclose(tab.prediction.probabilities, calibrated)


class _StuckReader:
    """A picture reader that does not return until released (a decode that never ends)."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, path):
        self.started.set()
        self.release.wait(30)
        raise UserError("released")


def _stuck(tab) -> _StuckReader:
    reader = _StuckReader()
    tab.opener._reader = reader
    return reader


def _end(reader: _StuckReader, qtbot) -> None:
    from gui.draw import picture_opener

    reader.release.set()
    qtbot.waitUntil(lambda: picture_opener.left_running() == 0, timeout=5000)


def test_cancel_gives_up_a_picture_that_does_not_end(qtbot, tab, tmp_path):
    reader = _stuck(tab)
    tab.open_image(tmp_path / "never.png")
    assert reader.started.wait(5)
    assert tab.cancel_button.isVisibleTo(tab) and not tab.open_button.isEnabled()
    assert tab.verdict_label.text() == "Opening never.png…"
    with qtbot.waitSignal(tab.pictureOpened) as blocker:
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [False]
    assert "Stopped opening never.png" in tab.error_label.text()
    assert tab.open_button.isEnabled() and not tab.cancel_button.isVisibleTo(tab)
    assert tab.verdict_label.text() == "Nothing drawn"
    _end(reader, qtbot)


def test_a_picture_past_the_time_limit_is_given_up_in_words(qtbot, tab, tmp_path):
    reader = _stuck(tab)
    tab.opener.set_time_limit_ms(200)
    with qtbot.waitSignal(tab.pictureOpened, timeout=5000) as blocker:
        tab.open_image(tmp_path / "slow.png")
    assert blocker.args == [False]
    assert "took longer than 0.2 s" in tab.error_label.text()
    assert tab.open_button.isEnabled()
    _end(reader, qtbot)


def test_closing_never_hangs_on_a_picture_that_does_not_end(qtbot, tab, tmp_path):
    import time

    reader = _stuck(tab)
    tab.open_image(tmp_path / "never.png")
    assert reader.started.wait(5)
    started = time.monotonic()
    assert tab.shutdown(timeout_ms=300) is False  # said, not waited for ever
    assert time.monotonic() - started < 10
    assert tab.opener.opening is None
    _end(reader, qtbot)


def test_the_window_thread_reads_with_one_intra_op_thread(qtbot, tab):
    assert torch.get_num_threads() == 1


def test_try_in_draw_offers_the_runs_model_and_keeps_the_label(qtbot, tab):
    from gui.draw.state import OfferedModel

    run = OfferedModel(checkpoint("mlp"), "Run #2")
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 12:16] = 255
    tab.show_digit(image, 7, run)
    assert tab.offer_bar.isVisibleTo(tab)
    assert "Run #2" in tab.offer_bar.label.text()
    assert tab.own_digits_bar.digit == 7  # the known label, not the model's answer
    in_use = tab.classifier
    qtbot.mouseClick(tab.offer_bar.button, Qt.MouseButton.LeftButton)
    assert tab.classifier is not in_use and tab.classifier.checkpoint is run.checkpoint
    assert "Scored by Run #2's model" in tab.detail_label.text()
    assert tab.state.current_model is not run.checkpoint  # the app's model is unchanged
    assert tab.own_digits_bar.digit == 7
    qtbot.mouseClick(tab.offer_bar.button, Qt.MouseButton.LeftButton)  # back
    assert tab.classifier.checkpoint is tab.state.current_model
    assert not tab.offer_bar.isVisibleTo(tab)
    tab.clear()
    assert tab.session.reference_label is None


def test_a_tab_without_a_window_uses_the_model_app_state_chose(qtbot):
    """The start-up model is chosen once, in AppState; the tab takes that (the bundled one)."""
    from core.resources import bundled_model_file

    state = AppState()
    widget = make_tab(qtbot, state)
    assert state.startup_note == ""
    assert state.current_model is not None
    assert widget.classifier.checkpoint is state.current_model
    assert widget.classifier.checkpoint.summary() == load_bundled().summary()
    assert bundled_model_file().exists()
    assert "Untrained" not in widget.model_label.text()


def test_without_any_model_the_tab_says_its_answers_are_guesses(qtbot, monkeypatch, tmp_path):
    import gui.app_state

    monkeypatch.setattr(gui.app_state, "current_checkpoint", _missing)
    widget = DrawTab(AppState())
    qtbot.addWidget(widget)
    assert widget.session.model_is_random
    assert "Untrained CNN" in widget.model_label.text()
    assert "bundled model is missing" in widget.model_label.text()
    widget.canvas.add_stroke(Stroke(tuple(SEVEN), 0.065))
    assert "random guess" in widget.detail_label.text()


def load_bundled() -> Checkpoint:
    from core.resources import bundled_model_file
    from core.storage.checkpoint import load_checkpoint

    return load_checkpoint(bundled_model_file())


def _missing(*_args, **_kwargs):
    raise UserError("the bundled model is missing")


@pytest.mark.parametrize("kind", ["eps", "fifo"])
def test_pictures_that_never_end_are_refused_in_words(qtbot, tab, tmp_path, kind):
    """A PostScript program named .png (Pillow would run Ghostscript) or a FIFO named .png."""
    import os

    path = tmp_path / "trap.png"
    if kind == "eps":
        path.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n")
    else:
        os.mkfifo(path)
    assert not open_file(qtbot, tab, path)
    assert "trap.png" in tab.error_label.text()
    assert tab.open_button.isEnabled() and tab.opener.opening is None
