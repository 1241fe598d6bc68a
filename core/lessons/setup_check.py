"""Checks of a lesson's ``[setup]`` table against what the app really has.

The shape of the table (known keys, TOML types) is checked without torch; whether a pair, a
loss preset, a training preset or a setting exists is asked of the registries the app itself
uses (``core.losses.registry.PAIRS``, ``core.losses.presets.PRESETS``,
``core.training.train_settings``), so a lesson can never name a pair the playground lacks.
Those registries import torch: that is the cost of ``deep`` checking (about a second, once).

Each function returns ``(key path, problem)`` or None, so the loader can find the line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from core.lessons.model import SETUP_KEYS, TABS

Problem = tuple[tuple[str, ...], str] | None

_TOML_TYPES = {"text": str, "array": list, "table": dict}


def _is_tensor(value: Any) -> bool:
    """A number or a (nested) list of numbers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, list) and bool(value) and all(_is_tensor(item) for item in value)


def check_shape(setup: Mapping[str, Any]) -> Problem:
    """Known keys with values of the right TOML type; no torch needed."""
    for key, value in setup.items():
        if key not in SETUP_KEYS:
            known = ", ".join(SETUP_KEYS)
            return (key,), f"[setup] has no key {key!r}; the keys are {known}"
        kind, _meaning = SETUP_KEYS[key]
        if not isinstance(value, _TOML_TYPES[kind]):
            return (key,), f"setup {key} must be {_kind_words(kind)}, not {_type_words(value)}"
    if "tab" in setup and setup["tab"] not in TABS:
        return ("tab",), f"setup tab {setup['tab']!r} is not one of {', '.join(TABS)}"
    for key in ("prediction", "target"):
        if key in setup and not _is_tensor(setup[key]):
            return (
                key,
            ), f"setup {key} must be a list of numbers (rows may nest), e.g. [[0.1, 2.0]]"
    if "dtype" in setup and setup["dtype"] not in ("float32", "float64"):
        return ("dtype",), 'setup dtype must be "float32" or "float64"'
    return None


def check_against_app(setup: Mapping[str, Any]) -> Problem:
    """Pairs, presets and settings the app has (imports the registries, and so torch)."""
    if "pair" in setup:
        from core.losses.registry import PAIRS

        if setup["pair"] not in PAIRS:
            return ("pair",), f"setup pair {setup['pair']!r} is not one of {', '.join(PAIRS)}"
    if "loss_preset" in setup:
        from core.losses.presets import PRESETS

        if setup["loss_preset"] not in PRESETS:
            titles = "; ".join(f'"{title}"' for title in PRESETS)
            return (
                "loss_preset",
            ), f"setup loss_preset {setup['loss_preset']!r} is not one of {titles}"
    if "prediction" in setup or "target" in setup:
        problem = _check_tensors(setup)
        if problem:
            return problem
    if "preset" in setup or "settings" in setup:
        return _check_training(setup)
    return None


def _check_tensors(setup: Mapping[str, Any]) -> Problem:
    """Prediction and target come together and fit the pair the setup leaves the playground on
    (``pair``, else the ``loss_preset``'s), as the playground itself would check them."""
    from core.errors import UserError
    from core.losses.options import LossOptions
    from core.losses.presets import PRESETS
    from core.losses.registry import PAIRS
    from core.losses.validation import prepare_inputs

    missing = (
        "target" if "target" not in setup else "prediction" if "prediction" not in setup else None
    )
    if missing:
        other = "prediction" if missing == "target" else "target"
        return (other,), f"setup gives a {other} but no {missing}: give both, or neither"
    pair = setup.get("pair") or (
        PRESETS[setup["loss_preset"]].pair if "loss_preset" in setup else None
    )
    if pair is None:
        return ("prediction",), "setup gives tensors but no pair (or loss_preset) they are for"
    try:
        prepare_inputs(
            PAIRS[pair],
            setup["prediction"],
            setup["target"],
            LossOptions(dtype=setup.get("dtype", "float32")),
        )
    except UserError as exc:
        return ("prediction",), f"setup tensors do not fit the pair {pair}: {exc}"
    return None


def _check_training(setup: Mapping[str, Any]) -> Problem:
    from core.errors import UserError
    from core.training.train_settings import PRESETS, SETTINGS, TrainConfig, apply_preset

    config = TrainConfig()
    if "preset" in setup:
        if setup["preset"] not in PRESETS:
            return (
                "preset",
            ), f"setup preset {setup['preset']!r} is not one of {', '.join(PRESETS)}"
        config = apply_preset(config, setup["preset"])
    settings = setup.get("settings", {})
    for name, value in settings.items():
        row = SETTINGS.get(name)
        if row is None or name in ("preset", "data_dir"):
            usable = ", ".join(n for n in SETTINGS if n not in ("preset", "data_dir"))
            return ("settings", name), f"setup settings has no {name!r}; the settings are {usable}"
        if isinstance(value, bool) != (row.kind is bool) or not _fits(value, row.kind):
            return ("settings", name), f"setup settings {name} must be {row.kind.__name__}"
        config = dataclasses.replace(config, **{name: row.kind(value)})
    try:
        config.validate()
    except UserError as exc:
        return ("settings",), f"setup settings: {exc}"
    return None


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float)
    if kind is int:
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, kind)


def _kind_words(kind: str) -> str:
    return {"text": "text in quotes", "array": "a list [...]", "table": "a table { ... }"}[kind]


def _type_words(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
