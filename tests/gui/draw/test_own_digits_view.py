"""My digits: the Draw tab's "Add to my digits as N" bar and the dialog (browse, delete, fine-tune)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from core.data.own_digits import OwnDigits
from core.inference.preprocess import digit_to_paper
from gui.app_state import AppState
from gui.draw.draw_canvas import Stroke
from gui.draw.own_digits_view import ADD_SHORTCUT, AddToMyDigitsBar, OwnDigitsDialog


def stroke_picture() -> np.ndarray:
    picture = np.full((280, 280), 255, dtype=np.uint8)
    picture[60:220, 120:150] = 0
    return picture


@pytest.fixture
def bar(qtbot, tmp_path):
    pictures = {"now": stroke_picture()}
    widget = AddToMyDigitsBar(lambda: pictures["now"], OwnDigits(tmp_path / "mine"))
    widget.pictures = pictures
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_button_saves_and_the_count_updates(qtbot, bar):
    bar.set_answer(7)
    with qtbot.waitSignal(bar.saved) as saved:
        qtbot.mouseClick(bar.add_button, Qt.MouseButton.LeftButton)
    assert saved.args == [7, 1]
    assert bar.message.text() == "saved: 7 (1 of yours)"
    qtbot.mouseClick(bar.add_button, Qt.MouseButton.LeftButton)
    assert bar.message.text() == "saved: 7 (2 of yours)"
    assert bar.own.counts()[7] == 2


def test_the_chooser_follows_the_model_until_picked_by_hand(bar):
    bar.set_answer(3)
    assert bar.digit == 3
    bar.digit_box.setCurrentIndex(5)
    bar.digit_box.activated.emit(5)  # what a click in the list does
    bar.set_answer(8)
    assert bar.digit == 5  # the learner's choice stands for this drawing
    bar.set_answer(None)  # cleared: a new drawing
    bar.set_answer(2)
    assert bar.digit == 2


def test_nothing_drawn_is_said_in_place(qtbot, bar):
    bar.pictures["now"] = None
    with qtbot.assertNotEmitted(bar.saved):
        assert not bar.add()
    assert bar.message.text().startswith("Not saved: nothing is drawn")
    assert bar.own.total() == 0


def test_draw_tab_adds_the_drawing_with_its_shortcut(qtbot):
    from tests.helpers import make_draw_tab, random_checkpoint

    state = AppState()
    state.set_current_model(random_checkpoint(dataset="unit-test data"), persist=False)
    tab = make_draw_tab(qtbot, state)
    tab.canvas.add_stroke(Stroke(((0.5, 0.2), (0.5, 0.8)), 0.06))
    tab.update_now()
    assert tab.own_digits_bar.digit == tab.prediction.digit  # defaults to the model's answer
    tab.own_digits_bar.digit_box.setCurrentIndex(1)
    tab.own_digits_bar.digit_box.activated.emit(1)
    tab.activateWindow()
    with qtbot.waitSignal(tab.own_digits_bar.saved, timeout=5000):
        qtbot.keySequence(tab, QKeySequence(ADD_SHORTCUT))
    own = tab.own_digits_bar.own
    assert own.counts()[1] == 1
    assert tab.own_digits_bar.message.text() == "saved: 1 (1 of yours)"
    saved = own.files(1)[0]
    from core.data.folder_dataset import picture_to_digit

    assert picture_to_digit(saved) is not None  # reads back as a digit through the canvas path
    tab.shutdown()


@pytest.fixture(scope="module")
def small_model():
    """An MLP trained for one epoch on most of the sample, and the sample without the rest."""
    from tests.helpers import mlp_on_sample_but

    return mlp_on_sample_but(200, test_digits=500)


def fill(own: OwnDigits, images, labels) -> None:
    for image, label in zip(images, labels, strict=True):
        # a consistent "own hand": MNIST digits with much thicker strokes
        thick = np.maximum.reduce([np.roll(image.numpy(), s, axis=1) for s in (-1, 0, 1)])
        own.add(digit_to_paper(thick), int(label))


@pytest.fixture
def dialog(qtbot, tmp_path, small_model):
    checkpoint, mnist, _images, _labels = small_model
    state = AppState()
    state.set_current_model(checkpoint, persist=False)
    widget = OwnDigitsDialog(state, OwnDigits(tmp_path / "mine"), mnist_loader=lambda: mnist)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()


def test_counts_thumbnails_and_delete(qtbot, dialog, small_model):
    _ck, _mnist, images, labels = small_model
    fill(dialog.own, images[:12], labels[:12])
    dialog.refresh()
    counts = dialog.own.counts()
    assert [int(label.text()) for label in dialog.count_labels] == counts
    assert dialog.thumbnails.count() == 12
    assert "12 drawings" in dialog.total_label.text()
    digit = int(labels[0])
    dialog.filter_box.setCurrentIndex(digit + 1)
    assert dialog.thumbnails.count() == counts[digit]
    dialog.thumbnails.item(0).setSelected(True)
    assert dialog.delete_button.isEnabled()
    assert dialog.delete_selected(confirm=False) == 1
    assert dialog.own.counts()[digit] == counts[digit] - 1
    assert dialog.count_labels[digit].text() == str(counts[digit] - 1)


def test_too_few_drawings_leave_fine_tuning_off(dialog):
    dialog.own.add(stroke_picture(), 1)
    dialog.own.add(stroke_picture(), 1)
    dialog.refresh()
    assert not dialog.tune_button.isEnabled()
    assert "at least 2 drawings" in dialog.tune_button.toolTip()


def test_fine_tune_runs_in_the_worker_and_offers_the_model(qtbot, dialog, small_model):
    checkpoint, _mnist, images, labels = small_model
    fill(dialog.own, images, labels)
    dialog.refresh()
    assert dialog.tune_button.isEnabled()
    dialog.epochs_box.setValue(2)
    with qtbot.waitSignal(dialog.state.runOffered, timeout=120_000) as offered:
        qtbot.mouseClick(dialog.tune_button, Qt.MouseButton.LeftButton)
        assert dialog.is_running and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=30_000)
    result = dialog.result
    assert result is not None and result.status == "finished"
    assert offered.args[0].checkpoint is result.checkpoint
    assert offered.args[0].entry is not None  # kept in the library on the worker thread
    assert dialog.state.current_model is checkpoint  # offered, never swapped in silently
    assert dialog.own_before.text() == f"{result.own_before:.1%}"
    assert dialog.own_after.text() == f"{result.own_after:.1%}"
    assert dialog.mnist_after.text() == f"{result.mnist_after:.1%}"
    assert "test split of bundled sample" in dialog.mnist_row.toolTip()
    assert "held out" in dialog.own_row.toolTip()  # per digit, before -> after
    assert result.own_after >= result.own_before
    assert "offered" in dialog.status_label.text()
    assert dialog.tune_button.isEnabled()


def test_closing_stops_a_running_fine_tune(qtbot, dialog, small_model):
    _ck, _mnist, images, labels = small_model
    fill(dialog.own, images, labels)
    dialog.refresh()
    dialog.epochs_box.setValue(20)
    with qtbot.assertNotEmitted(dialog.state.runOffered):
        assert dialog.start_fine_tune()
        dialog.close()  # stops and waits: no thread left running (the conftest checks)
        qtbot.wait(50)
    assert dialog._thread is None or not dialog._thread.isRunning()


def test_main_window_opens_my_digits_from_the_menu_and_the_draw_tab(qtbot, main_window):
    actions = [a for m in main_window.menuBar().actions() for a in m.menu().actions()]
    own_action = next(a for a in actions if a.text().replace("&", "") == "My digits…")
    own_action.trigger()
    dialog = main_window.own_digits_dialog
    assert dialog.isVisible() and dialog.total_label.text().startswith("None yet")
    dialog.hide()
    main_window.draw_tab.own_digits_bar.open_button.click()
    assert dialog.isVisible()
    bar = main_window.draw_tab.own_digits_bar
    bar._picture = stroke_picture
    assert bar.add()
    assert sum(int(label.text()) for label in dialog.count_labels) == 1  # refreshed on save


def test_thumbnails_show_the_newest_first(dialog):
    dialog.own.add(stroke_picture(), 5)
    dialog.own.add(stroke_picture(), 2)
    dialog.own.add(stroke_picture(), 9)
    dialog.refresh()
    assert [dialog.thumbnails.item(i).text() for i in range(3)] == ["9", "2", "5"]


def test_the_delete_key_asks_then_deletes(qtbot, dialog, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    dialog.own.add(stroke_picture(), 4)
    dialog.own.add(stroke_picture(), 4)
    dialog.refresh()
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    dialog.thumbnails.item(0).setSelected(True)
    dialog.thumbnails.setFocus()
    qtbot.keyClick(dialog.thumbnails, Qt.Key.Key_Delete)  # "No": nothing deleted
    assert dialog.own.counts()[4] == 2
    qtbot.keyClick(dialog.thumbnails, Qt.Key.Key_Delete)
    assert dialog.own.counts()[4] == 1 and dialog.thumbnails.count() == 1
    assert dialog.status_label.text() == "Deleted 1 drawing."


def test_thumbnails_are_decoded_off_the_window_thread(qtbot, dialog, monkeypatch, tmp_path):
    """30 phone-sized photos: the dialog shows placeholders at once, thumbnails as they come."""
    import threading

    from PIL import Image

    import gui.draw.own_digits_view as view

    threads = []
    real = view.decode_thumbnails

    def spy(paths):
        threads.append(threading.current_thread())
        return real(paths)

    monkeypatch.setattr(view, "decode_thumbnails", spy)
    folder = dialog.own.root / "3"
    folder.mkdir(parents=True, exist_ok=True)
    photo = np.full((3000, 4000), 235, np.uint8)
    photo[800:2200, 1900:2100] = 20
    for index in range(30):
        Image.fromarray(photo).save(folder / f"2026-01-01-{index:04d}.jpg", quality=80)
    dialog.refresh()
    assert dialog.thumbnails.count() == 30
    qtbot.waitUntil(lambda: dialog.thumbnail_loader.pending == 0, timeout=60_000)
    assert threads and all(t is not threading.main_thread() for t in threads)
    icon = dialog.thumbnails.item(0).icon()
    size = icon.availableSizes()[0]
    assert max(size.width(), size.height()) <= view.THUMB_SIDE
    image = icon.pixmap(size).toImage()
    assert image.pixelColor(size.width() // 2, size.height() // 2).lightness() < 120  # the ink
