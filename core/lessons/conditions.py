"""The check language of lesson files: a small, safe expression language over named facts.

A lesson's check is text a teacher wrote, e.g.::

    run.finished and run.test_accuracy >= 0.9 and run.model == "mlp"

It is read by this module's own tokenizer and recursive-descent parser, never by ``eval``:
nothing in a lesson file can call a function, read an attribute or import anything. The grammar
(``docs/lessons.md`` repeats it)::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := value (("==" | "!=" | "<" | "<=" | ">" | ">=") value)?
    value      := NAME | NUMBER | STRING | "true" | "false" | "(" condition ")"

A NAME is words joined by dots (``playground.verdict``) and must be a fact of the vocabulary
(``core.lessons.vocabulary``); a NUMBER is ``3``, ``-0.5`` or ``1e-3``; a STRING is in double or
single quotes. Comparisons do not chain (``0 < x < 1`` is refused: write ``0 < x and x < 1``).

Evaluation is against a ``Mapping[str, object]`` of facts. A fact that is missing (or None, or
of the wrong type) is *unknown*, and unknown spreads as in SQL's three-valued logic:
``false and unknown`` is false, ``true or unknown`` is true, ``not unknown`` is unknown. A check
whose answer is unknown is not done — so a check never passes because the app has not said
something yet, and evaluation never raises.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Limits that keep a hostile or broken file from costing anything: a longer text or a deeper
# nesting is a validation error, not a RecursionError.
MAX_LENGTH = 1000
MAX_DEPTH = 30

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
KEYWORDS = ("and", "or", "not", "true", "false")


class ConditionError(ValueError):
    """A condition that cannot be read or names something unknown; ``str()`` is one sentence."""

    def __init__(self, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name  # the unknown or mistyped fact, when there is one (to find its line)


# --- the parsed tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: bool | float | str


@dataclass(frozen=True)
class FactRef:
    name: str


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


Node = Literal | FactRef | Compare | Not | BoolOp


# --- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>"(?:[^"\\\n]|\\["\\])*"|'(?:[^'\\\n]|\\['\\])*')
  | (?P<op>==|!=|<=|>=|<|>|\(|\))
    """,
    re.VERBOSE,
)

# What people write from other languages, with the word that means it here.
_FOREIGN = {
    "&&": "and",
    "&": "and",
    "||": "or",
    "|": "or",
    "!": "not",
    "=": "==",
    "True": "true",
    "False": "false",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
}


@dataclass(frozen=True)
class Token:
    kind: str  # "number" | "name" | "string" | "op" | "keyword" | "end"
    text: str
    at: int  # character offset, for messages


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token; ``ConditionError`` for anything
    the language does not have (a call, an attribute of a non-name, an unknown symbol)."""
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise ConditionError(_unknown_symbol(source, at))
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "number" and tokens and tokens[-1].kind in ("name", "number", "string"):
            # "x -1": a minus after a value is subtraction, which the language does not have
            raise ConditionError(f"arithmetic is not part of checks (at {text!r})")
        if kind == "name" and text in KEYWORDS:
            kind = "keyword"
        elif kind == "name" and text in _FOREIGN:
            raise ConditionError(f"write {_FOREIGN[text]!r} instead of {text!r}")
        if kind != "space":
            tokens.append(Token(kind, text, at))
        at = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _unknown_symbol(source: str, at: int) -> str:
    for foreign, ours in sorted(_FOREIGN.items(), key=lambda item: -len(item[0])):
        if source.startswith(foreign, at):
            return f"write {ours!r} instead of {foreign!r}"
    char = source[at]
    if char in "\"'":
        return "a text value is not closed by its quote"
    if char in "+-*/%":
        return f"arithmetic is not part of checks (at {char!r})"
    if char in ".[]{},:":
        return f"{char!r} cannot appear here: checks have no attributes, indexing or calls"
    return f"{char!r} is not part of the check language"


# --- the parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_keyword(self, word: str) -> bool:
        return self.token.kind == "keyword" and self.token.text == word

    def condition(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"the check is nested more than {MAX_DEPTH} levels deep")
        node = self.bool_op("or", self.and_op)
        self.depth -= 1
        return node

    def and_op(self) -> Node:
        return self.bool_op("and", self.not_op)

    def bool_op(self, word: str, operand) -> Node:
        operands = [operand()]
        while self.at_keyword(word):
            self.take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else BoolOp(word, tuple(operands))

    def not_op(self) -> Node:
        if self.at_keyword("not"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConditionError(f"the check is nested more than {MAX_DEPTH} levels deep")
            node = Not(self.not_op())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.value()
        if self.token.kind == "op" and self.token.text in COMPARISONS:
            op = self.take().text
            right = self.value()
            if self.token.kind == "op" and self.token.text in COMPARISONS:
                raise ConditionError(
                    "comparisons do not chain: write 'a < b and b < c' instead of 'a < b < c'"
                )
            return Compare(op, left, right)
        return left

    def value(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text))
        if token.kind == "string":
            return Literal(_unquote(token.text))
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Literal(token.text == "true")
        if token.kind == "name":
            if self.token.text == "(":
                raise ConditionError(f"checks cannot call functions ({token.text}(...))")
            return FactRef(token.text)
        if token.text == "(":
            node = self.condition()
            if self.take().text != ")":
                raise ConditionError("a '(' is not closed by ')'")
            return node
        if token.kind == "end":
            raise ConditionError("the check ends where a value was expected")
        raise ConditionError(f"{token.text!r} cannot stand here; a fact or a value was expected")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(source: str) -> Node:
    """The tree of ``source``; ``ConditionError`` (one sentence) when it is not a condition."""
    if not isinstance(source, str):
        raise ConditionError("a check must be text")
    if not source.strip():
        raise ConditionError("the check is empty")
    if len(source) > MAX_LENGTH:
        raise ConditionError(f"the check is longer than {MAX_LENGTH} characters")
    parser = _Parser(tokenize(source))
    node = parser.condition()
    if parser.token.kind != "end":
        extra = parser.token.text
        hint = " (join conditions with 'and' or 'or')" if extra != ")" else " (unmatched ')')"
        raise ConditionError(f"unexpected {extra!r} after a complete check{hint}")
    return node


# --- types against the vocabulary -----------------------------------------------------------


def _kind_of(node: Node, kinds: Mapping[str, str], values: Mapping[str, tuple]) -> str:
    """The kind ("bool", "number", "text") of ``node``; ``ConditionError`` on a mismatch."""
    if isinstance(node, Literal):
        if isinstance(node.value, bool):
            return "bool"
        return "number" if isinstance(node.value, float) else "text"
    if isinstance(node, FactRef):
        if node.name not in kinds:
            raise ConditionError(_unknown_fact(node.name, kinds), name=node.name)
        return kinds[node.name]
    if isinstance(node, Not | BoolOp):
        for operand in (node.operand,) if isinstance(node, Not) else node.operands:
            _expect_bool(operand, kinds, values, "not" if isinstance(node, Not) else node.op)
        return "bool"
    left, right = _kind_of(node.left, kinds, values), _kind_of(node.right, kinds, values)
    fact = next((n.name for n in (node.left, node.right) if isinstance(n, FactRef)), None)
    if left != right:
        raise ConditionError(
            f"{_show(node.left)} is {_article(left)} and {_show(node.right)} is "
            f"{_article(right)}: they cannot be compared",
            name=fact,
        )
    if left != "number" and node.op not in ("==", "!="):
        raise ConditionError(f"{node.op!r} compares numbers; {_show(node.left)} is {left}", fact)
    _check_choice(node, values)
    return "bool"


def _expect_bool(node: Node, kinds, values, word: str) -> None:
    kind = _kind_of(node, kinds, values)
    if kind != "bool":
        raise ConditionError(
            f"'{word}' needs true/false but {_show(node)} is {_article(kind)}; compare it "
            f"(e.g. {_show(node)} {'>= 0.9' if kind == 'number' else '== ...'})",
            name=node.name if isinstance(node, FactRef) else None,
        )


def _check_choice(node: Compare, values: Mapping[str, tuple]) -> None:
    """``playground.verdict == "agre"``: a text fact with known values names them."""
    for fact, other in ((node.left, node.right), (node.right, node.left)):
        if isinstance(fact, FactRef) and isinstance(other, Literal) and values.get(fact.name):
            allowed = values[fact.name]
            if other.value not in allowed:
                choices = ", ".join(f'"{value}"' for value in allowed)
                raise ConditionError(
                    f'{fact.name} is never "{other.value}"; it is one of {choices}', fact.name
                )


def _unknown_fact(name: str, kinds: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, list(kinds), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else " (see docs/lessons.md for the vocabulary)"
    return f"unknown fact {name!r}{hint}"


def _show(node: Node) -> str:
    if isinstance(node, FactRef):
        return node.name
    if isinstance(node, Literal):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return f'"{node.value}"' if isinstance(node.value, str) else f"{node.value:g}"
    return "the part in parentheses"


def _article(kind: str) -> str:
    return {"bool": "true/false", "number": "a number", "text": "text"}[kind]


def fact_names(node: Node) -> frozenset[str]:
    """Every fact ``node`` reads (what a provider must report for the check to be decidable)."""
    if isinstance(node, FactRef):
        return frozenset([node.name])
    if isinstance(node, Compare):
        return fact_names(node.left) | fact_names(node.right)
    if isinstance(node, Not):
        return fact_names(node.operand)
    if isinstance(node, BoolOp):
        return frozenset().union(*(fact_names(operand) for operand in node.operands))
    return frozenset()


# --- evaluation --------------------------------------------------------------------------------

_UNKNOWN = None  # the third truth value


def _fact_value(name: str, facts: Mapping[str, object], kinds: Mapping[str, str] | None):
    value = facts.get(name)
    kind = kinds.get(name) if kinds else None
    if value is None:
        return _UNKNOWN
    if isinstance(value, bool):
        return value if kind in (None, "bool") else _UNKNOWN
    if isinstance(value, int | float):
        number = float(value)
        return number if kind in (None, "number") and not math.isnan(number) else _UNKNOWN
    if isinstance(value, str):
        return value if kind in (None, "text") else _UNKNOWN
    return _UNKNOWN


def _compare(op: str, left, right) -> bool | None:
    if left is _UNKNOWN or right is _UNKNOWN:
        return _UNKNOWN
    if type(left) is not type(right):  # the provider reported a fact of another type
        return _UNKNOWN
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if isinstance(left, str | bool):
        return _UNKNOWN
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def evaluate(node: Node, facts: Mapping[str, object], kinds: Mapping[str, str] | None = None):
    """True, False or None (unknown) for ``node`` over ``facts``; never raises."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FactRef):
        return _fact_value(node.name, facts, kinds)
    if isinstance(node, Compare):
        return _compare(
            node.op, evaluate(node.left, facts, kinds), evaluate(node.right, facts, kinds)
        )
    if isinstance(node, Not):
        inner = evaluate(node.operand, facts, kinds)
        return _UNKNOWN if not isinstance(inner, bool) else not inner
    results = [evaluate(operand, facts, kinds) for operand in node.operands]
    results = [r if isinstance(r, bool) else _UNKNOWN for r in results]
    decisive = node.op == "or"  # "or": one true decides; "and": one false decides
    if decisive in results:
        return decisive
    return _UNKNOWN if _UNKNOWN in results else not decisive


# --- the public object ----------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed, checked condition: ``Condition.parse(text)`` then ``holds(facts)``."""

    source: str
    tree: Node
    kinds: Mapping[str, str] | None = None  # fact name -> kind, from the vocabulary

    @classmethod
    def parse(cls, source: str, vocabulary: Mapping[str, object] | None = None) -> Condition:
        """Parse ``source`` and check it against ``vocabulary`` (name -> ``Fact``; default: the
        app's ``VOCABULARY``): unknown facts and mixed types are a ``ConditionError``."""
        from core.lessons.vocabulary import VOCABULARY

        table = VOCABULARY if vocabulary is None else vocabulary
        kinds = {name: fact.type for name, fact in table.items()}
        values = {name: tuple(getattr(fact, "values", ())) for name, fact in table.items()}
        tree = parse(source)
        kind = _kind_of(tree, kinds, values)
        if kind != "bool":
            raise ConditionError(
                f"a check must be true or false, but {_show(tree)} is {_article(kind)}",
                name=tree.name if isinstance(tree, FactRef) else None,
            )
        return cls(source, tree, kinds)

    @property
    def facts(self) -> frozenset[str]:
        return fact_names(self.tree)

    def value(self, facts: Mapping[str, object]) -> bool | None:
        """True, False, or None when a fact it needs is not known yet."""
        result = evaluate(self.tree, facts, self.kinds)
        return result if isinstance(result, bool) else None

    def holds(self, facts: Mapping[str, object]) -> bool:
        """True only when the condition is decidably true over ``facts``."""
        return self.value(facts) is True
