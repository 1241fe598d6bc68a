"""Why training goes where it goes (issue 26): the loss landscape and the run's path, the
learning-rate finder, the learning rate changed mid-run, runs over seeds. Views over the Qt-free
states in ``state.py``; the computation is ``core.training`` (landscape, lr_find, repeats)."""
