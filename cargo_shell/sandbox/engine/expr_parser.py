"""Tokenizer and parser of the expression subset evaluated by :mod:`expressions`.

An expression becomes a tree of tuples (``Ast``) whose first item names the node kind;
parsing is cached per expression text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


class ExpressionError(ValueError):
    """The expression cannot be parsed or evaluated."""


class _Undefined:
    """JavaScript's ``undefined``: missing paths evaluate to it; it renders as an empty string."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||\?\?|\?\.|[-+*/%<>!?:.,()\[\]])
    """,
    re.VERBOSE,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Tok(kind, match.group()))
    tokens.append(_Tok("end", ""))
    return tokens


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


# An AST node is a tuple whose first item names its kind; tuples keep the walker fast.
Ast = tuple[Any, ...]

_BINARY_PRECEDENCE: dict[str, int] = {
    "??": 1,
    "||": 2,
    "&&": 3,
    "==": 4,
    "!=": 4,
    "===": 4,
    "!==": 4,
    "<": 5,
    "<=": 5,
    ">": 5,
    ">=": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "%": 7,
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Tok:
        return self.tokens[self.pos]

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.take()
        if tok.value != value or tok.kind == "str":
            raise ExpressionError(f"expected {value!r} but found {tok.value or 'end of expression'!r}")

    def parse(self) -> Ast:
        node = self.ternary()
        if self.peek().kind != "end":
            raise ExpressionError(f"unexpected {self.peek().value!r}")
        return node

    def ternary(self) -> Ast:
        cond = self.binary(1)
        if self.peek().kind == "op" and self.peek().value == "?":
            self.take()
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return ("if", cond, yes, no)
        return cond

    def binary(self, min_prec: int) -> Ast:
        left = self.unary()
        while True:
            tok = self.peek()
            prec = _BINARY_PRECEDENCE.get(tok.value) if tok.kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.binary(prec + 1)
            left = ("bin", tok.value, left, right)

    def unary(self) -> Ast:
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("!", "-", "+"):
            self.take()
            return ("un", tok.value, self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Ast:
        tok = self.take()
        if tok.kind == "num":
            number = float(tok.value)
            return ("lit", int(number) if number.is_integer() and "." not in tok.value else number)
        if tok.kind == "str":
            return ("lit", _unquote(tok.value))
        if tok.kind == "name":
            literal = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
            if tok.value in literal:
                return ("lit", literal[tok.value])
            return ("var", tok.value)
        if tok.value == "(":
            inner = self.ternary()
            self.expect(")")
            return inner
        if tok.value == "[":
            items: list[Ast] = []
            while not (self.peek().kind == "op" and self.peek().value == "]"):
                items.append(self.ternary())
                if self.peek().value == ",":
                    self.take()
            self.expect("]")
            return ("arr", tuple(items))
        raise ExpressionError(f"unexpected {tok.value or 'end of expression'!r}")

    def postfix(self, node: Ast) -> Ast:
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return node
            if tok.value in (".", "?."):
                self.take()
                if tok.value == "?." and self.peek().value == "[":
                    continue
                name = self.take()
                if name.kind != "name":
                    raise ExpressionError(f"expected a property name after {tok.value!r}")
                node = ("get", node, ("lit", name.value))
            elif tok.value == "[":
                self.take()
                key = self.ternary()
                self.expect("]")
                node = ("get", node, key)
            elif tok.value == "(":
                self.take()
                args: list[Ast] = []
                while not (self.peek().kind == "op" and self.peek().value == ")"):
                    args.append(self.ternary())
                    if self.peek().value == ",":
                        self.take()
                self.expect(")")
                node = ("call", node, tuple(args))
            else:
                return node


@lru_cache(maxsize=4096)
def parse(text: str) -> Ast:
    """Parse one expression (cached)."""
    if not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()
