from __future__ import annotations

from PySide6.QtCore import QSettings


def test_window_has_its_tabs_and_title(main_window):
    assert main_window.windowTitle() == "Digit Lab"
    names = [main_window.tabs.tabText(i) for i in range(main_window.tabs.count())]
    assert names == ["Loss playground", "Training", "Draw", "Inside the network"]


def test_menus_exist(main_window):
    titles = [a.text() for a in main_window.menuBar().actions()]
    assert "&File" in titles and "&Help" in titles


def test_about_lists_versions(main_window):
    import torch

    text = main_window.about_text()
    assert torch.__version__ in text and "Device in use" in text


def test_last_tab_and_geometry_remembered(qtbot):
    from gui.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.resize(700, 500)  # the offscreen screen is 800 px wide
    first.tabs.setCurrentIndex(2)
    expected = first.size()
    first.close()
    assert QSettings().value("window/tab", type=int) == 2
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 2
    assert second.size() == expected
    second.close()


def test_gradient_flow_of_a_run_reaches_the_inspector(main_window, qtbot):
    tab = main_window.training_tab
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("cnn"))
    tab.epochs_spin.setValue(1)
    tab.device_combo.setCurrentIndex(tab.device_combo.findData("cpu"))
    tab.gradient_stats_check.setChecked(True)
    panel = main_window.inside_tab.training_panel
    with qtbot.waitSignal(tab.runEnded, timeout=120_000) as ended:
        assert tab.start()
    assert ended.args[0].status == "finished", ended.args[0].reason
    qtbot.waitUntil(lambda: panel.reports > 0 and panel.dead is not None, timeout=10_000)
    assert {layer.name for layer in panel.latest.layers} >= {"conv1", "fc1"}


def test_every_tab_fits_a_1024_by_700_window(main_window):
    main_window.resize(1024, 700)
    main_window.show()
    assert main_window.minimumSizeHint().height() <= 700
    assert (main_window.width(), main_window.height()) == (1024, 700)


# ------------------------------------------------------------------ the Help menu (issue 23)
def test_help_menu_shows_the_readme_sections(main_window, qtbot):
    from PySide6.QtGui import QTextDocument

    from core.resources import app_root
    from gui.help_view import HELP_TOPICS, readme_section, without_missing_images

    help_menu = next(a.menu() for a in main_window.menuBar().actions() if a.text() == "&Help")
    texts = [a.text() for a in help_menu.actions()]
    topics = ["Your &first five minutes", "&Keyboard shortcuts"]
    assert [text for text in texts if text in topics] == topics  # (Lessons… comes first)
    for topic in HELP_TOPICS:
        main_window.help_actions[topic.heading].trigger()
        dialog = main_window.help_dialogs[topic.heading]
        qtbot.waitExposed(dialog)
        section = readme_section(topic.heading)
        assert section, f"README has no '{topic.heading}' section"
        shown = dialog.browser.toPlainText()
        # One source: the window shows the README's section, word for word.
        document = QTextDocument()
        document.setMarkdown(without_missing_images(section, app_root()))
        assert shown == document.toPlainText() and len(shown) > 100
        dialog.close()
    keyboard = main_window.help_dialogs["Keyboard"].browser.toPlainText()
    assert "Ctrl+1" in keyboard and "Ctrl+M" in keyboard


def test_readme_sections_are_cut_at_the_next_heading():
    from gui.help_view import readme_section, without_missing_images

    text = "# T\n\n## A\n\none\n\n### A.1\n\ntwo\n\n## B\n\nthree\n"
    assert readme_section("A", text) == "one\n\n### A.1\n\ntwo"
    assert readme_section("A.1", text) == "two"
    assert readme_section("C", text) == ""
    from pathlib import Path

    assert without_missing_images("x ![pic](no/such.png) y", Path("/")) == "x  y"


def test_the_gui_thread_answers_with_one_intra_op_thread(main_window):
    """Inference on the window's thread uses one intra-op thread (issue 22: with two, one
    descheduled thread makes the other spin and a 0.5 ms pass takes 100 ms)."""
    import os

    import torch

    if (os.cpu_count() or 1) > 1:
        assert torch.get_num_threads() == 1
