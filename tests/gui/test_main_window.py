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
