"""Each command's help line is written once (``cli.COMMANDS``), and so is ``--model``'s."""

from __future__ import annotations

import argparse

import pytest

from cli import COMMANDS, MODEL_HELP, build_parser
from tests.helpers import ROOT


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_shows_the_line_the_listing_shows(name):
    """``--help`` lists every command without importing it; registered, it says the same."""
    subcommands = _subcommands(build_parser(name))
    helps = {action.dest: action.help for action in subcommands._choices_actions}
    assert helps[name] == COMMANDS[name][1]
    assert subcommands.choices[name].add_help  # really registered by its module, not listed


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_model_option_has_the_one_help(name):
    command = _subcommands(build_parser(name)).choices[name]
    # a saved model's file ('train --model' names an architecture instead); 'evaluate' must be
    # told which file it scores, so it has no default to describe
    files = [a for a in command._actions if "--model" in a.option_strings and a.metavar == "PATH"]
    for option in files:
        assert option.required or option.help.startswith(MODEL_HELP)


def test_help_lines_are_not_typed_again_in_the_commands():
    sources = {p.name: p.read_text() for p in sorted((ROOT / "cli").glob("*_cmd.py"))}
    assert sources
    direct = [name for name, text in sources.items() if "add_parser(" in text]
    assert not direct, f"register() through cli.add_command, not add_parser: {direct}"
    phrase = "the app's current model, else the bundled one"
    copies = [name for name, text in sources.items() if phrase in text]
    assert not copies, f"--model's help is cli.MODEL_HELP (cli.add_model_option): {copies}"
