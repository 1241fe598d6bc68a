"""The vocabulary of lesson checks: every fact a check may name, its type, and where it comes from.

A lesson's check (``core.lessons.conditions``) may only name facts listed here; the loader
refuses any other name, so a teacher's typo is an error with a line number instead of a check
that silently never passes. The GUI's fact provider reports these names (plain Python values:
bool, int/float, str) from the app's own state and events; a fact it has not reported yet is
unknown and leaves a check open.

``docs/lessons.md`` carries this table (``markdown_table()`` writes it); a test keeps the two
in step. Adding a fact: one row here, the provider reports it, and the docs table is rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPES = ("bool", "number", "text")


@dataclass(frozen=True)
class Fact:
    """One name a check may use."""

    name: str
    type: str  # "bool" | "number" | "text"
    meaning: str  # what it says, for the teacher writing a check
    source: str  # where in the app it comes from
    values: tuple[str, ...] = ()  # for a text fact with a closed set of values: those values

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"fact {self.name}: type {self.type!r} is not one of {TYPES}")


PLAYGROUND = "Loss playground tab"
TRAINING = "Training tab: the latest run (started, finished or stopped)"
EVALUATION = "Training tab: the evaluation view of the latest run"
DRAW = "Draw tab"
INSPECTOR = "Inside the network tab"
APP = "the main window"

_FACTS = (
    Fact("app.tab", "text", "the tab shown", APP, ("loss", "training", "draw", "inside")),
    # --- Loss playground
    Fact(
        "playground.pair", "text", 'the loss pair compared, e.g. "ce-nll", "bce-logits"', PLAYGROUND
    ),
    Fact(
        "playground.verdict",
        "text",
        "whether the pair's two forms give the same values and gradients",
        PLAYGROUND,
        ("agree", "differ"),
    ),
    Fact(
        "playground.loss",
        "number",
        "the fused form's loss now shown (at the slider's scale; unknown for reduction \"none\")",
        PLAYGROUND,
    ),
    Fact("playground.composed_loss", "number", "the composed form's loss now shown", PLAYGROUND),
    Fact(
        "playground.inputs_are_seed",
        "bool",
        "the prediction and target are the seed notebook's tensors for this pair",
        PLAYGROUND,
    ),
    Fact(
        "playground.dtype",
        "text",
        "the dtype of the comparison",
        PLAYGROUND,
        ("float32", "float64"),
    ),
    Fact(
        "playground.max_logit",
        "number",
        "the largest |x| the cards compute with: the prediction's largest |x| times the slider's s",
        PLAYGROUND,
    ),
    Fact(
        "playground.gradients_agree",
        "bool",
        "the two forms' gradients agree within the dtype's tolerance",
        PLAYGROUND,
    ),
    Fact(
        "playground.scale", "number", "the stability plot's slider: the logits times s", PLAYGROUND
    ),
    Fact(
        "playground.parting_scale",
        "number",
        "the first s of the stability sweep (current dtype) where the forms part; unknown if never",
        PLAYGROUND,
    ),
    Fact(
        "playground.parted",
        "bool",
        "the stability slider is at or past playground.parting_scale",
        PLAYGROUND,
    ),
    # --- Training: the latest run
    Fact("run.started", "bool", "a run has been started in this session", TRAINING),
    Fact("run.finished", "bool", "the latest run ran all its epochs", TRAINING),
    Fact("run.stopped", "bool", "the latest run was stopped before its last epoch", TRAINING),
    Fact("run.test_accuracy", "number", "the latest run's test accuracy, 0 to 1", TRAINING),
    Fact(
        "run.model", "text", 'the latest run\'s model, e.g. "mlp", "cnn", "deep-sigmoid"', TRAINING
    ),
    Fact("run.optimizer", "text", 'the latest run\'s optimizer, e.g. "sgd", "adam"', TRAINING),
    Fact("run.lr", "number", "the latest run's learning rate", TRAINING),
    Fact("run.epochs", "number", "the latest run's number of epochs", TRAINING),
    Fact("run.batch_size", "number", "the latest run's batch size", TRAINING),
    Fact("run.preset", "text", 'the preset the run\'s settings came from ("" = by hand)', TRAINING),
    Fact(
        "run.augment", "bool", "the latest run varied its training digits (augmentation)", TRAINING
    ),
    Fact("run.gradient_stats", "bool", "the latest run recorded gradient flow", TRAINING),
    Fact("run.diverged", "bool", "the latest run's loss became NaN or infinite", TRAINING),
    Fact(
        "run.loss_rose",
        "bool",
        "the latest run's loss rose: the mean of its last 10 % of batch losses is above the mean of its first 10 % (or it diverged)",
        TRAINING,
    ),
    Fact(
        "run.dead_relus",
        "number",
        "the largest share of dead ReLU units in one layer, 0 to 1, in the run's last dead-ReLU report",
        TRAINING,
    ),
    Fact("run.lr_found", "bool", "the learning-rate finder has suggested a rate", TRAINING),
    Fact("run.lr_suggested", "number", "the rate the learning-rate finder suggested", TRAINING),
    Fact(
        "run.lr_is_suggested",
        "bool",
        "the latest run's learning rate is the finder's suggestion (within 10 %)",
        TRAINING,
    ),
    # --- Training: the evaluation view
    Fact(
        "evaluation.cell_opened",
        "bool",
        "a misclassified test digit was opened from the evaluation view's gallery (click or Enter)",
        EVALUATION,
    ),
    Fact("evaluation.reliability_shown", "bool", "the reliability diagram was shown", EVALUATION),
    # --- Draw
    Fact("draw.has_drawing", "bool", "there is ink on the canvas", DRAW),
    Fact("draw.digit", "number", "the digit the model reads", DRAW),
    Fact("draw.confidence", "number", "the model's probability for that digit, 0 to 1", DRAW),
    Fact("draw.looks_like_digit", "bool", 'the model\'s "is this a digit?" answer', DRAW),
    Fact(
        "draw.attack_flipped", "bool", "Fool the model found a change that flips the answer", DRAW
    ),
    Fact("draw.attack_pixels", "number", "how many pixels that change touched", DRAW),
    Fact("draw.compare_models", "number", "how many models the side-by-side view shows", DRAW),
    Fact("draw.own_digits", "number", "how many digits are in My digits", DRAW),
    Fact("draw.model", "text", 'the kind of the model the Draw tab uses, e.g. "mlp", "cnn"', DRAW),
    Fact(
        "draw.attack_method",
        "text",
        "the method of the latest Fool the model search",
        DRAW,
        ("pgd", "fgsm", "pixels"),
    ),
    Fact("draw.compare_has_mlp", "bool", "an MLP is one of the models side by side", DRAW),
    Fact("draw.compare_has_cnn", "bool", "a CNN is one of the models side by side", DRAW),
    Fact("draw.turn_it_shown", "bool", 'the "Turn it" page showed the models side by side', DRAW),
    Fact("draw.fine_tuned", "bool", "a model was fine-tuned on My digits", DRAW),
    Fact(
        "draw.fine_tune_gain",
        "number",
        "the fine-tuned model's accuracy on your held-out drawings minus the model's before",
        DRAW,
    ),
    # --- Inside the network
    Fact(
        "inspector.gradient_panel_open",
        "bool",
        "the Training panel of Inside the network was on screen while a run reported its gradient flow",
        INSPECTOR,
    ),
    Fact(
        "run.gradient_spread",
        "number",
        "the smallest layer gradient norm over the largest, in the run's latest gradient report",
        TRAINING,
    ),
)

VOCABULARY: dict[str, Fact] = {fact.name: fact for fact in _FACTS}


def markdown_table() -> str:
    """The vocabulary as the Markdown table ``docs/lessons.md`` carries."""
    rows = ["| fact | type | meaning | from |", "| --- | --- | --- | --- |"]
    for fact in VOCABULARY.values():
        meaning = fact.meaning
        if fact.values:
            meaning += " (" + ", ".join(f'`"{value}"`' for value in fact.values) + ")"
        meaning = meaning.replace("|", "\\|")  # |x| would end the table cell
        rows.append(f"| `{fact.name}` | {fact.type} | {meaning} | {fact.source} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m core.lessons.vocabulary: the table for docs/lessons.md
    print(markdown_table())
