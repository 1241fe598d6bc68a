"""The lesson template ``main.py lessons --template`` prints: a valid lesson that teaches the format.

A test loads it, so the template can never drift from what the loader accepts.
"""

from __future__ import annotations

TEMPLATE = '''\
# A Digit Lab lesson. Save it as <data folder>/lessons/my-lesson.toml (the file name, without
# .toml, is the lesson's id) and it appears in the Lessons panel (Ctrl+L) and in
# `main.py lessons --list`. Check it with `main.py lessons --validate my-lesson.toml`.
# The whole format and every fact a check may name: docs/lessons.md.

title = "Cross-entropy is NLL after LogSoftmax"

# What the lesson is about, shown above its steps. Markdown-light: paragraphs, **bold**,
# *italic*, `code` and "- " lists.
text = """
`CrossEntropyLoss(x, y)` and `NLLLoss(LogSoftmax(x), y)` are the same loss written twice.
In this lesson you check it on the seed notebook's tensors, then break the agreement.
"""

# Shown once every step is done: the "why".
explanation = """
`CrossEntropyLoss` *is* `log_softmax` followed by `nll_loss`: same value, same gradients.
The naive `log(exp(x) / sum(exp(x)))` overflows once a logit passes about 88 in float32,
because `exp(89)` is already infinite; `log_softmax` subtracts the row's maximum first.
"""

# How the lab is set up when the learner starts the lesson (every key is optional).
[setup]
tab = "loss"                      # "loss", "training", "draw" or "inside"
pair = "ce-nll"                   # a loss pair of the playground
loss_preset = "Uniform logits"    # a ready-made case of the playground, by title
# prediction = [[0.1, 2.0, -1.0]] # or tensors of your own
# target = [1]
# dtype = "float32"
# preset = "vanishing"            # Training: a settings preset
# settings = { model = "mlp", epochs = 2, lr = 0.01 }   # Training: settings by name

# The steps, in order. Each has the text of the experiment, a hint the learner can ask for,
# and one or more checks: all must pass for the step to be done.
[[steps]]
text = "Press **Seed example** (Ctrl+E): both forms give 1.6802."
hint = "The button is under the tensors; the loss values are on the two cards."

[[steps.checks]]
# A condition on the app's facts: names with dots, numbers, "text", true/false,
# == != < <= > >=, and/or/not and parentheses. Nothing else: no code runs from this file.
condition = 'playground.pair == "ce-nll" and playground.inputs_are_seed'
description = "The seed's tensors in the ce-nll pair"

[[steps.checks]]
condition = 'playground.verdict == "agree"'
description = "Both forms agree"

[[steps]]
text = "Switch to the *ce-naive* pair and type a logit of 100: make the forms part."
hint = "exp(100) is infinite in float32."

[[steps.checks]]
condition = 'playground.pair == "ce-naive" and playground.verdict == "differ"'
description = "The naive form parts from the fused one"
'''
