"""``TrainConfig`` and one table for every user-facing setting of it: label, type, range or
choices, default, tooltip, QSettings key and command-line flag.

The Training tab builds its controls and its saved settings from ``SETTINGS``; ``main.py train``
builds its options from it; ``TrainConfig.validate`` checks ranges and choices against it. So a
setting is described once, not five times.

API (all plain Python, no Qt):

- ``SETTINGS``: ``dict[str, Setting]`` keyed by the ``TrainConfig`` field name, in display
  order. A ``Setting`` has ``name, label, kind (int | float | str | bool), default, tooltip``,
  ``low/high`` (the valid range, inclusive) or ``choices`` (``Choice(value, title, tooltip)``),
  ``control_low/control_high`` (the widget's range: narrower where a QSpinBox cannot hold the
  valid range), ``decimals/step`` for spin boxes, ``settings_key`` (e.g. ``"training/epochs"``)
  and ``cli_flag`` (e.g. ``"--epochs"``); ``None`` where a setting has no widget or no flag.
- ``restore_value(name, raw)``: any stored value (a string from an INI file, a huge int,
  ``"nan"``, a list, ``None``) -> a valid value for the control, clamped into its range; an
  unreadable value or an unknown choice gives the default. Never raises for any ``raw``.
- ``restore_config(stored, base=None)``: a ``TrainConfig`` from ``{settings_key: raw}`` (what
  ``QSettings.value(key)`` returns, read WITHOUT ``type=``, which raises ``OverflowError``).
- ``stored_values(config)``: ``{settings_key: value}`` to write back.
- ``report_every(train_samples, batch_size, live=True, device_type="cpu")``: the one rule for
  how many batches lie between two loss reports (about ``POINTS_PER_EPOCH`` per epoch, fewer
  and never every batch on a GPU; ``live=False``: no per-batch reports, for a run nobody
  watches).
- ``PRESETS`` / ``apply_preset(config, name)``: named groups of settings, e.g. ``"speedrun"``.
- ``coerce(raw, kind, default, low, high, choices)``: the same clamping for any other stored
  setting (e.g. a pen width), so every restored value goes through one rule.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.data.datasets import IDX_DATASETS
from core.data.mnist import DATASET_CHOICES
from core.device import DEVICE_CHOICES
from core.errors import UserError
from core.training.models import LOSS_CHOICES, MODELS

# Aim for about this many loss points per epoch: enough for a smooth curve on the sample, few
# enough that full MNIST does not pay a report (a device sync on CUDA) every batch.
POINTS_PER_EPOCH = 100
ACCELERATOR_POINTS_PER_EPOCH = 25
QT_INT_MAX = 2**31 - 1  # a QSpinBox holds a C int

OPTIMIZER_CHOICES = ("sgd", "adam")
SCHEDULE_CHOICES = ("constant", "onecycle")
AMP_CHOICES = ("off", "auto", "on")
MAX_HELD_OUT = 5000


@dataclass
class TrainConfig:
    """Every setting of a run. Defaults are the seed notebook's: MLP, 5 epochs, batch 64, SGD.

    Labels, ranges, tooltips, QSettings keys and CLI flags of these fields live in one table,
    ``SETTINGS`` below; ``validate`` checks against it. (Also importable from
    ``core.training.train_types``, the run's contract.)
    """

    model: str = "mlp"
    loss: str = "nll"
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 5
    seed: int = 1
    device: str = "auto"
    dataset: str = "auto"
    data_dir: str | None = None
    # Send a BatchEvent every N batches (1 = every batch). Each report is one device sync;
    # core.training.train_settings.report_every() is the rule the CLI and the GUI use.
    report_every: int = 1
    # CPU intra-op threads for the run; 0 = automatic (see core.training.trainer.choose_threads).
    threads: int = 0
    schedule: str = "constant"  # or "onecycle"
    amp: str = "off"  # mixed precision: "off", "auto" (CUDA only), "on"
    # Share of the training digits held out of training (at most MAX_HELD_OUT), for
    # calibration and the not-a-digit threshold at the end of the run (RunResult.held_out).
    holdout: float = 0.1
    # The preset these settings came from ("" = chosen by hand); see core.training.train_settings.PRESETS.
    preset: str = ""
    # Train on each batch and a randomly varied copy of it (core.data.augment: rotation, scale, shear,
    # shift, elastic wobble) on the training device; test and held-out digits stay as they are.
    augment: bool = False
    # Opt-in gradient flow (core.inspection.activations.GradientMonitor): a GradientReport a few times a
    # second and a DeadReluReport after each epoch, for the "Inside the network" tab.
    gradient_stats: bool = False
    # Train towards (1 - s) on the true digit and s/10 spread over all ten (cross-entropy's
    # label_smoothing): the net stops pushing its logits apart once it is sure, which gave the
    # one-epoch CPU speed run its last 0.3 points (docs/measured.md). 0 = the plain loss.
    label_smoothing: float = 0.0
    # Adam's running averages: how much of the past gradient (beta1) and of its square (beta2)
    # each step keeps. torch's defaults; the CPU speed run's one short epoch forgets faster
    # (0.7, 0.9: tuomaso/train_mnist_fast's values, +0.1 point measured).
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999

    def validate(self) -> TrainConfig:
        """Raise ``UserError`` naming the first bad setting; return self for chaining."""
        problem = check_config(self)
        if problem is not None:
            raise UserError(problem)
        return self

    def held_out_count(self, train_samples: int) -> int:
        """How many of ``train_samples`` training digits this run holds out of training."""
        wanted = int(train_samples * self.holdout)
        return max(0, min(MAX_HELD_OUT, wanted, train_samples - 1))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Choice:
    value: str
    title: str
    tooltip: str = ""


@dataclass(frozen=True)
class Setting:
    """One ``TrainConfig`` field as the user meets it (see the module docstring)."""

    name: str
    label: str  # with a Qt mnemonic, e.g. "&Epochs"; ``plain_label`` drops it
    kind: type
    tooltip: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Choice, ...] = ()
    control_low: float | None = None  # None: same as low
    control_high: float | None = None  # None: same as high
    decimals: int = 0
    step: float = 1
    optional: bool = False  # None / "" is a valid value (e.g. data_dir)
    settings_key: str | None = None
    cli_flag: str | None = None
    cli_help: str = ""  # short help for --help; empty: the tooltip's first line
    metavar: str | None = None

    @property
    def default(self) -> Any:
        return TrainConfig.__dataclass_fields__[self.name].default

    @property
    def plain_label(self) -> str:
        return self.label.replace("&", "")

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    @property
    def control_range(self) -> tuple[float | None, float | None]:
        low = self.low if self.control_low is None else self.control_low
        high = self.high if self.control_high is None else self.control_high
        return low, high

    def help_text(self) -> str:
        return self.cli_help or self.tooltip.splitlines()[0]


def _choices(values: tuple[str, ...], titles: Mapping[str, str], tips: Mapping[str, str]):
    return tuple(Choice(v, titles.get(v, v), tips.get(v, "")) for v in values)


_LOSS_TITLES = {"nll": "NLL on log_softmax", "ce": "Cross-entropy on logits"}
_LOSS_TIPS = {
    "nll": "NLLLoss on log-probabilities: the model ends in log_softmax (the seed's choice).",
    "ce": "CrossEntropyLoss on raw logits: log_softmax happens inside the loss.",
}
_OPTIMIZER_TITLES = {"sgd": "SGD", "adam": "Adam"}
_OPTIMIZER_TIPS = {
    "sgd": "Stochastic gradient descent: step = -lr x gradient, plus momentum x previous step.",
    "adam": "Adam: per-weight step sizes from running averages of the gradient and its square.",
}
_DEVICE_TIPS = {
    "auto": "A CUDA GPU if present, then Apple's MPS, then the CPU.",
    "cpu": "The processor: always present.",
    "cuda": "An NVIDIA GPU through CUDA.",
    "mps": "An Apple GPU through Metal (MPS).",
}
_DATASET_TIPS = {
    "auto": "Full MNIST when present in the data folder, else the bundled sample.",
    "mnist": "Full MNIST: 60,000 training and 10,000 test digits.",
    "sample": "The bundled sample: 4,000 training and 1,000 test real MNIST digits.",
    "folder": "Your own pictures: a data folder with sub-folders 0 to 9 of PNG files, each read\n"
    "through the Draw tab's preprocessing (every 5th picture of a digit is a test digit).",
    **{d.name: d.about for d in IDX_DATASETS.values() if not d.shows_digits},
}
_DATASET_TITLES = {
    "auto": "Automatic (MNIST or the sample)",
    "sample": "Bundled MNIST sample",
    "folder": "Your own pictures",
    **{d.name: d.title for d in IDX_DATASETS.values()},
}
_SCHEDULE_TIPS = {
    "constant": "The same learning rate for every step.",
    "onecycle": "OneCycle: the rate rises to lr over the first 30% of steps, then anneals to "
    "almost zero; trains fast with large batches.",
}
_AMP_TIPS = {
    "off": "Full float32 arithmetic.",
    "auto": "bfloat16 mixed precision on a CUDA GPU, where it is faster; float32 elsewhere.",
    "on": "Mixed precision wherever the device supports it.",
}


PRESETS: dict[str, dict[str, Any]] = {
    # tuomaso/train_mnist_fast's ideas: big batches, OneCycle, Adam, mixed precision and
    # channels-last on a GPU. Tuned on the CPU (MNIST's training files, last 10,000 as test):
    # 2 epochs at lr 0.004 stopped at 98.4%, 4 at 98.85%; 8 at lr 0.006 reach 99.05% after
    # epoch 6 and 99.23% after 8 (704 steps of 512: few steps, which is what a GPU wants).
    "speedrun": {
        "model": "cnn",
        "loss": "ce",
        "optimizer": "adam",
        "lr": 0.006,
        "batch_size": 512,
        "epochs": 8,
        "schedule": "onecycle",
        "amp": "auto",
    },
    # Issue 28: 99 % on a laptop CPU in seconds, through the same engine. Tuned on MNIST's
    # training files (last 10,000 as test, 2 CPU threads): a net with a quarter of the small
    # CNN's FLOPs, ONE epoch (evaluated once), OneCycle to a peak the lr-finder put near 0.01,
    # Adam, label smoothing 0.1 (+0.3 points), batch 128 (twice the steps of 256 for the same
    # time), 1,000 held-out digits for calibration instead of 5,000 (more digits to learn from,
    # a shorter end of run). What each choice bought: docs/measured.md.
    "cpu-speedrun": {
        "model": "cnn-fast",
        "loss": "ce",
        "optimizer": "adam",
        "lr": 0.01,
        "batch_size": 128,
        # Two epochs, not one: one reached 99.03-99.14 % (mean 99.11) on the held-out 10,000,
        # no margin for a real test set; two 99.19-99.26 % (mean 99.23) in 6.1-7.0 s at load
        # 1.1-1.6, one 3.1-3.2 s on the same machine (docs/measured.md, issue 28).
        "epochs": 2,
        "schedule": "onecycle",
        "amp": "off",
        "label_smoothing": 0.1,
        "adam_beta1": 0.7,
        "adam_beta2": 0.9,
        "holdout": 0.02,
        "augment": False,
        "gradient_stats": False,
    },
    # Lessons for the "Inside the network" tab (gradient flow recorded): a deep sigmoid MLP
    # whose first layers get 1e-5 of the last layer's gradient, and a learning rate high
    # enough to kill most ReLUs of the MLP within an epoch (measured on the bundled sample).
    "vanishing": {"model": "deep-sigmoid", "lr": 0.1, "batch_size": 256, "gradient_stats": True},
    "dead-relus": {"model": "mlp", "lr": 0.5, "batch_size": 256, "gradient_stats": True},
}
PRESET_NOTES = {
    "speedrun": "tuned for a GPU: on the CPU it runs, but slowly (minutes on full MNIST); "
    "on a CPU choose the CPU speed run",
}
# The comparison the Training tab shows under the CPU speed run, measured by
# benchmarks/train_speed.py (the seed notebook's loop, MNIST's training files with their last
# 10,000 digits as the test, one CPU thread; docs/measured.md gives the load).
SEED_RECIPE_SECONDS = 28
SEED_RECIPE_ACCURACY = "97.5%"
SEED_RECIPE_TOOK = (
    f"The seed's recipe took {SEED_RECIPE_SECONDS} s for {SEED_RECIPE_ACCURACY} (5 epochs of "
    "the MLP through a DataLoader)"
)
# Why the CPU speed run is fast, in one line (the Training tab shows it under the preset box).
CPU_SPEEDRUN_WHY = (
    "two epochs of a 1.6 MFLOP conv net on digits held in memory, batches of 128 on every "
    "free core, OneCycle + Adam + label smoothing, one evaluation an epoch"
)


_PRESET_TIPS = {
    "": "Your own settings.",
    "speedrun": "Big batches, OneCycle, Adam, mixed precision: 99% on full MNIST in seconds on "
    "a GPU; " + PRESET_NOTES["speedrun"] + ".",
    "cpu-speedrun": "99% on MNIST in seconds on a CPU: "
    + CPU_SPEEDRUN_WHY
    + ". "
    + SEED_RECIPE_TOOK
    + ".",
    "vanishing": "A deep sigmoid MLP: watch its gradients vanish layer by layer (Inside the "
    "network, Training).",
    "dead-relus": "The MLP at learning rate 0.5: most of its ReLUs die and it stops learning.",
}


_ROWS: tuple[Setting, ...] = (
    Setting(
        "model",
        "&Model",
        str,
        "Which network to train. The MLP looks at all 784 pixels at once; the CNN slides\n"
        "small filters over the image, so it learns stroke shapes wherever they are.",
        choices=tuple(Choice(n, s.title, s.description) for n, s in MODELS.items()),
        settings_key="training/model",
        cli_flag="--model",
        cli_help="mlp: the seed's SimpleNet 784-128-64-10; cnn: a small conv net; cnn-bn: the "
        "bundled default; cnn-fast: the CPU speed run's 1.6 MFLOP net",
    ),
    Setting(
        "loss",
        "&Loss",
        str,
        "Both train the same way: CrossEntropyLoss(logits) equals NLLLoss(log_softmax(logits)).\n"
        "The choice decides whether the model's last layer applies log_softmax itself.\n"
        "The Loss playground's ce-nll pair shows the two side by side.",
        choices=_choices(LOSS_CHOICES, _LOSS_TITLES, _LOSS_TIPS),
        settings_key="training/loss",
        cli_flag="--loss",
        cli_help="nll: the model outputs log-probabilities (the seed's NLLLoss); ce: raw "
        "logits with CrossEntropyLoss",
    ),
    Setting(
        "optimizer",
        "&Optimizer",
        str,
        "How the gradient turns into a weight update.\n" + "\n".join(_OPTIMIZER_TIPS.values()),
        choices=_choices(OPTIMIZER_CHOICES, _OPTIMIZER_TITLES, _OPTIMIZER_TIPS),
        settings_key="training/optimizer",
        cli_flag="--optimizer",
        cli_help="sgd (with momentum) or adam",
    ),
    Setting(
        "lr",
        "&lr",
        float,
        "Learning rate: how far each step moves the weights. Too small: the loss falls\n"
        "slowly. Too large: it jumps around or explodes (NaN). SGD: try 0.01-0.1; Adam: 0.001.",
        low=1e-6,
        high=10.0,
        control_low=1e-5,
        decimals=5,
        step=0.001,
        settings_key="training/lr",
        cli_flag="--lr",
        cli_help="learning rate",
        metavar="LR",
    ),
    Setting(
        "momentum",
        "Mo&mentum",
        float,
        "SGD momentum: the share of the previous step carried into the next one (0 = plain\n"
        "SGD, 0.9 = usual). It smooths the noisy batch gradients. Adam ignores it.",
        low=0.0,
        high=0.999,
        decimals=3,
        step=0.05,
        settings_key="training/momentum",
        cli_flag="--momentum",
        cli_help="SGD momentum (adam ignores it)",
        metavar="M",
    ),
    Setting(
        "batch_size",
        "&Batch",
        int,
        "Digits per step. Larger batches give smoother gradients and more samples per\n"
        "second, but fewer steps per epoch (often needs a larger learning rate).",
        low=1,
        high=65536,
        settings_key="training/batch_size",
        cli_flag="--batch-size",
        cli_help="digits per step",
        metavar="B",
    ),
    Setting(
        "epochs",
        "&Epochs",
        int,
        "Passes over the whole training set; the test set is scored after each.",
        low=1,
        high=1000,
        settings_key="training/epochs",
        cli_flag="--epochs",
        cli_help="passes over the training set",
        metavar="N",
    ),
    Setting(
        "seed",
        "&Seed",
        int,
        "Random seed for the initial weights and the batch order: the same seed on the\n"
        "same device gives the same curves, so two runs differ only by what you changed.",
        low=0,
        high=2**63 - 1,
        control_high=QT_INT_MAX,
        settings_key="training/seed",
        cli_flag="--seed",
        cli_help="same seed, same device: same numbers",
        metavar="S",
    ),
    Setting(
        "device",
        "&Device",
        str,
        "Where the arithmetic runs. auto picks a CUDA GPU, then Apple's MPS, then the CPU.",
        choices=_choices(DEVICE_CHOICES, {}, _DEVICE_TIPS),
        settings_key="training/device",
        cli_flag="--device",
        cli_help="where to compute (auto: cuda, then mps, then cpu)",
    ),
    Setting(
        "schedule",
        "Sc&hedule",
        str,
        "How the learning rate changes during the run.\n" + "\n".join(_SCHEDULE_TIPS.values()),
        choices=_choices(
            SCHEDULE_CHOICES, {"constant": "Constant", "onecycle": "OneCycle"}, _SCHEDULE_TIPS
        ),
        settings_key="training/schedule",
        cli_flag="--schedule",
        cli_help="learning-rate schedule: constant or onecycle",
    ),
    Setting(
        "amp",
        "Mixed &precision",
        str,
        "Mixed precision: some arithmetic in 16-bit floats, faster on modern GPUs.\n"
        + "\n".join(_AMP_TIPS.values()),
        choices=_choices(AMP_CHOICES, {}, _AMP_TIPS),
        settings_key="training/amp",
        cli_flag="--amp",
        cli_help="mixed precision: off, auto (bfloat16 on CUDA) or on",
    ),
    Setting(
        "holdout",
        "&Held out",
        float,
        "Share of the training digits kept out of training (at most 5,000), used at the\n"
        "end of the run to calibrate confidence and to learn what a real digit looks like.",
        low=0.0,
        high=0.5,
        decimals=2,
        step=0.05,
        settings_key="training/holdout",
        cli_flag="--holdout",
        cli_help="share of training digits held out for calibration (at most 5,000)",
        metavar="F",
    ),
    Setting(
        "augment",
        "A&ugment",
        bool,
        "Show the network each training digit and a randomly varied copy of it: slightly\n"
        "rotated, scaled, slanted, shifted and wobbled (elastic), new every epoch. Other people\n"
        "write differently from MNIST's writers; a model that has seen such variation reads\n"
        "their digits (and yours) better. About twice the time per epoch.",
        settings_key="training/augment",
        cli_flag="--augment",
        cli_help="train on each batch and a randomly varied copy of it (rotation, scale, shear, "
        "shift, elastic) on the training device: about twice the time per epoch",
    ),
    Setting(
        "gradient_stats",
        "&Gradient flow",
        bool,
        "Measure each layer's gradient, weights and update size a few times a second, and\n"
        "its dead ReLUs after each epoch: the 'Inside the network' tab draws them. Vanishing\n"
        "or exploding gradients and dead ReLUs show there. Costs under 5% speed.",
        settings_key="training/gradient_stats",
        cli_flag="--gradient-stats",
        cli_help="report per-layer gradient flow (gradient and weight norms, update/weight "
        "ratio) a few times a second and dead ReLUs per epoch",
    ),
    Setting(
        "label_smoothing",
        "Label smoothing",
        float,
        "Aim for 1 - s on the right digit and share s among all ten, instead of a hard 1:\n"
        "the network stops pushing its scores apart once it is right, which generalises a\n"
        "little better (0 = the plain loss; the CPU speed run uses 0.1).",
        low=0.0,
        high=0.5,
        decimals=2,
        step=0.05,
        cli_flag="--label-smoothing",
        cli_help="share of the target spread over all classes (cross-entropy label_smoothing)",
        metavar="S",
    ),
    Setting(
        "adam_beta1",
        "Adam beta1",
        float,
        "Adam: the share of the previous gradient average each step keeps (momentum).",
        low=0.0,
        high=0.9999,
        decimals=4,
        step=0.05,
        cli_flag="--adam-beta1",
        cli_help="Adam's gradient-average decay",
        metavar="B1",
    ),
    Setting(
        "adam_beta2",
        "Adam beta2",
        float,
        "Adam: the share of the previous squared-gradient average each step keeps.",
        low=0.0,
        high=0.9999,
        decimals=4,
        step=0.001,
        cli_flag="--adam-beta2",
        cli_help="Adam's squared-gradient-average decay",
        metavar="B2",
    ),
    Setting(
        "dataset",
        "Data&set",
        str,
        "What to train on (every dataset is 28x28 pictures in 10 classes).\n"
        + "\n".join(_DATASET_TIPS.values()),
        choices=_choices(DATASET_CHOICES, _DATASET_TITLES, _DATASET_TIPS),
        cli_flag="--dataset",
        cli_help="auto: full MNIST when present in the data folder, else the bundled sample; "
        "fashion-mnist, kmnist: read from the data folder (DIR/FashionMNIST/raw, DIR/KMNIST/raw)",
    ),
    Setting(
        "data_dir",
        "Data &folder",
        str,
        "Folder holding the dataset in torchvision's layout (DIR/MNIST/raw,\n"
        "DIR/FashionMNIST/raw, DIR/KMNIST/raw).",
        optional=True,
        cli_flag="--data-dir",
        cli_help="folder holding the dataset in torchvision's layout (DIR/MNIST/raw, "
        "DIR/FashionMNIST/raw, ...); default: the user data folder",
        metavar="DIR",
    ),
    Setting(
        "threads",
        "&Threads",
        int,
        "CPU threads for the run (0 = automatic: 1 for the mlp).",
        low=0,
        high=256,
        cli_flag="--threads",
        metavar="T",
    ),
    Setting(
        "preset",
        "P&reset",
        str,
        "A named group of settings.\n" + "\n".join(f"{k}: {v}" for k, v in _PRESET_TIPS.items()),
        choices=_choices(
            ("", *PRESETS),
            {
                "": "Custom",
                "speedrun": "Speed run (GPU)",
                "cpu-speedrun": "Speed run (CPU)",
                "vanishing": "Lesson: vanishing gradients",
                "dead-relus": "Lesson: dead ReLUs",
            },
            _PRESET_TIPS,
        ),
        settings_key="training/preset",
        cli_flag="--preset",
        cli_help="start from a named group of settings (flags given override it); speedrun: "
        "cnn, adam, batch 512, onecycle, mixed precision on a GPU; cpu-speedrun: two epochs "
        "of cnn-fast, adam, batch 128, onecycle, label smoothing 0.1, for a CPU",
    ),
    Setting(
        "report_every",
        "Report every",
        int,
        "Batches between two loss reports (see report_every()).",
        low=1,
        high=2**62,
    ),
)

SETTINGS: dict[str, Setting] = {row.name: row for row in _ROWS}


def apply_preset(config: TrainConfig, name: str) -> TrainConfig:
    """A copy of ``config`` with preset ``name``'s settings (and ``preset=name``); "" keeps the
    settings and clears the name. Unknown names raise ``KeyError``."""
    return dataclasses.replace(config, **(PRESETS[name] if name else {}), preset=name)


def report_every(
    train_samples: int, batch_size: int, live: bool = True, device_type: str = "cpu"
) -> int:
    """Batches between two loss reports: about ``POINTS_PER_EPOCH`` reports per epoch.

    Each report reads the loss from the device. On a GPU (``device_type`` "cuda"/"mps") that
    read drains the queue of work, so reports there are ``ACCELERATOR_POINTS_PER_EPOCH`` an
    epoch and never every batch. Nobody watching (``live=False``, e.g. the CLI without a
    progress bar) means no per-batch reports at all.
    """
    if not live:
        return SETTINGS["report_every"].high  # type: ignore[return-value]
    steps = max(1, -(-max(0, train_samples) // max(1, batch_size)))
    if device_type in ("cuda", "mps"):
        return max(2, steps // ACCELERATOR_POINTS_PER_EPOCH)
    return max(1, steps // POINTS_PER_EPOCH)


_INT_TEXT = re.compile(r"[+-]?\d+")


def _to_number(raw: Any, kind: type) -> float | int | None:
    """A finite number from ``raw`` or None; ints stay exact however large."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        value: float | int = raw
    elif isinstance(raw, (str, bytes)):
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        text = text.strip()
        if _INT_TEXT.fullmatch(text):
            if len(text) > 400:  # beyond any range; int() refuses over 4,300 digits
                return -(10**400) if text.startswith("-") else 10**400
            return int(text)
        if len(text) > 64:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(value):
        return None
    if kind is int:
        return int(value) if value == int(value) else round(value)
    return value


def coerce(
    raw: Any,
    kind: type,
    default: Any,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    optional: bool = False,
) -> Any:
    """``raw`` as a valid ``kind`` value: numbers clamped into ``[low, high]``, unknown choices,
    garbage and non-finite numbers replaced by ``default``. Never raises."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower() if isinstance(raw, (str, int)) else ""
        return {"true": True, "1": True, "false": False, "0": False}.get(text, default)
    if kind is str:
        if optional and (raw is None or raw == ""):
            return None
        if not isinstance(raw, str) or (choices and raw not in choices):
            return default
        return raw
    number = _to_number(raw, kind)
    if number is None:
        return default
    if low is not None and number < low:
        number = low
    if high is not None and number > high:
        number = high
    return kind(number)


def restore_value(name: str, raw: Any) -> Any:
    """A stored value of setting ``name`` made valid for its control (see ``coerce``)."""
    row = SETTINGS[name]
    low, high = row.control_range
    return coerce(raw, row.kind, row.default, low, high, row.values, row.optional)


def restore_config(stored: Mapping[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """A valid ``TrainConfig`` from ``{settings_key: raw value}``; missing keys keep ``base``."""
    base = base or TrainConfig()
    values = {}
    for row in SETTINGS.values():
        if row.settings_key is not None and row.settings_key in stored:
            values[row.name] = restore_value(row.name, stored[row.settings_key])
    return dataclasses.replace(base, **values)


def stored_values(config: TrainConfig) -> dict[str, Any]:
    """``{settings_key: value}`` of every setting the Training tab remembers."""
    return {
        row.settings_key: getattr(config, row.name)
        for row in SETTINGS.values()
        if row.settings_key is not None
    }


def check_config(config: TrainConfig) -> str | None:
    """The first problem with ``config`` as one sentence, or None (``TrainConfig.validate``)."""
    for row in SETTINGS.values():
        value = getattr(config, row.name)
        if row.choices:
            if value not in row.values:
                return f"unknown {row.name} {value!r}; choose one of {', '.join(row.values)}"
        elif row.optional and value is None:
            continue
        elif row.low is not None and row.high is not None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not row.low <= value <= row.high:
                noun = "learning rate" if row.name == "lr" else row.name.replace("_", " ")
                return f"{noun} must be {_range_text(row)}, got {value}"
    return None


def _range_text(row: Setting) -> str:
    if row.kind is int:
        high = "2**63-1" if row.high == 2**63 - 1 else f"{row.high:g}"
        return f"{row.low:g}..{high}"
    return f"in [{row.low:g}, {row.high:g}]"
