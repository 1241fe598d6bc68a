"""Loss pairs: a fused PyTorch loss next to the composition it is equivalent to (or is mistaken
for), compared with autograd so the GUI, the ``loss`` CLI and the tests show the same numbers.

The package has one module per job; everything public is re-exported here, so callers keep
writing ``from core.losses import compare, PAIRS``:

- ``options``: :class:`LossOptions` and its validation (dtype limits, int64 ignore index);
- ``forms``: the loss forms, the intermediate views and the step chains used to name overflow;
- ``registry``: :class:`LossPair` and :data:`PAIRS`;
- ``validation``: :func:`prepare_inputs`, the one gate for typed tensors;
- ``compare``: :func:`compare`, :class:`LossComparison`, overflow and saturation diagnosis;
- ``stability``: :func:`stability_sweep` and where the forms part;
- ``codegen``: :func:`pytorch_code`, :func:`format_value`;
- ``presets``: the seed notebook's tensors and figures, presets, random examples;
- ``verdict`` (imported from its module): the verdict, its tolerance and captions in words.
"""

from core.losses.codegen import format_value, pytorch_code
from core.losses.compare import (
    FormResult,
    LossComparison,
    SaturatedValue,
    bce_saturation,
    compare,
    find_overflow,
)
from core.losses.forms import manual_cross_entropy, naive_log_softmax, soft_cross_entropy
from core.losses.options import (
    BINARY,
    CLASS,
    DTYPES,
    PROBABILITY,
    REDUCTIONS,
    TOLERANCES,
    LossOptions,
    check_fits,
    largest,
)
from core.losses.presets import (
    PRESETS,
    SEED_EXAMPLES,
    SEED_LOSSES,
    LossPreset,
    default_example,
    is_seed_example,
    onehot,
    random_example,
    seed_example,
)
from core.losses.registry import PAIRS, LossPair, get_pair
from core.losses.stability import StabilitySweep, log_scales, stability_sweep, sweep_summary
from core.losses.validation import prepare_inputs

__all__ = [
    "BINARY",
    "CLASS",
    "DTYPES",
    "PAIRS",
    "PRESETS",
    "PROBABILITY",
    "REDUCTIONS",
    "SEED_EXAMPLES",
    "SEED_LOSSES",
    "TOLERANCES",
    "FormResult",
    "LossComparison",
    "LossOptions",
    "LossPair",
    "LossPreset",
    "SaturatedValue",
    "StabilitySweep",
    "bce_saturation",
    "check_fits",
    "compare",
    "default_example",
    "find_overflow",
    "is_seed_example",
    "format_value",
    "get_pair",
    "largest",
    "log_scales",
    "manual_cross_entropy",
    "naive_log_softmax",
    "onehot",
    "prepare_inputs",
    "pytorch_code",
    "random_example",
    "seed_example",
    "soft_cross_entropy",
    "stability_sweep",
    "sweep_summary",
]
