"""One place for the app's look: colours, the few style sheets, and how a plot is styled.

Views ask for a role ("error", "note", "muted") instead of typing a colour, so a red means one
thing everywhere and a palette change is one edit. Per-class colours are the Okabe-Ito palette,
which stays distinguishable for the common forms of colour blindness.
"""

from __future__ import annotations

# Text colours by role.
ERROR = "#b3261e"
OK = "#1b5e20"
NOTE = "#9a5b00"
MUTED = "#666666"
FAINT = "#999999"
INK = "#333333"
ACCENT = "#1f5fbf"

# Backgrounds.
ERROR_BG = "#f8c9c4"
NOTE_BG = "#fff4cc"  # a yellow note box (with NOTE_BORDER and NOTE_INK)
NOTE_BORDER = "#e0c060"
NOTE_INK = "#4a3b00"
PLOT_BG = "w"

# One colour per training run in the overlaid curves (Okabe-Ito order, colour-blind-safe).
RUN_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#882255",
)

# Ten class colours (Okabe-Ito, extended with two neutral tones), colour-blind-safe.
CLASS_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
    "#882255",
)


def text_style(colour: str, *, size_px: int | None = None, extra: str = "") -> str:
    """A QLabel style sheet for text of ``colour`` (one of the roles above)."""
    size = f" font-size: {size_px}px;" if size_px else ""
    return f"color: {colour};{size}{extra}"


def style_plot(
    plot: object,
    *,
    axis_colour: str = "#777777",
    text_colour: str = INK,
    left: str | None = None,
    bottom: str | None = None,
    title: str | None = None,
) -> None:
    """Give a pyqtgraph PlotItem/PlotWidget the app's axes: grey lines, dark labels.

    ``left``/``bottom``/``title``, when given, are set in the text colour at the app's sizes.
    An axis title reads as written: pyqtgraph's automatic SI prefix, which appends "(×0.001)"
    to a title without units and rescales the ticks to match, is off; ticks show real values.
    """
    import pyqtgraph as pg

    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(axis_colour))
        axis.setTextPen(pg.mkPen(text_colour))
        axis.enableAutoSIPrefix(False)
    for name, text in (("left", left), ("bottom", bottom)):
        if text is not None:
            item.setLabel(name, text, color=text_colour, **{"font-size": "10pt"})
    if title is not None:
        item.setTitle(title, color=text_colour, size="11pt")


# Loss playground: the two forms, the two dtypes of the difference plot, and its panels.
FUSED = "#1f77b4"
COMPOSED = "#e4572e"
DIFF_FLOAT32 = "#6a3d9a"
DIFF_FLOAT64 = "#33a02c"
OK_BG = "#e7f5ec"
ERROR_SOFT_BG = "#fdecea"
INFO_BG = "#eef3fb"
INFO_BORDER = "#c9d6ea"
INFO_INK = "#1d3557"
CARD_BG = "#fbfbfd"
CARD_BORDER = "#d5d8de"

# "Inside the network" tab: the dark ground of unit grids and templates, the outline of the
# hovered unit and of the strongest units, the drawn digit's marker on the map.
INSPECT_BG = "#26262b"
INSPECT_HOVER = "#56B4E9"
INSPECT_TOP = "#009E73"
INSPECT_MARKER = "#D55E00"

# Evaluation view: the confusion matrix's colour ramp (share of the true class, 0 to 1) and the
# count text on its dark cells.
CONFUSION_RAMP = ("#ffffff", "#78aadc", "#143c8c")
ON_DARK = "#ffffff"
