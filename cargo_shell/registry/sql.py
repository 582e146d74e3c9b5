"""Does a SQL text only read? A real parser decides, never a pattern.

Read-only means one statement that is a ``SELECT`` (``WITH ... SELECT``, or ``UNION`` /
``INTERSECT`` / ``EXCEPT`` of them, possibly parenthesised) with nothing inside that writes or
runs something else: no data-modifying ``WITH`` clause, no ``SELECT ... INTO``, no ``FOR
UPDATE`` lock, no call of a function known to have side effects. Everything else (``DELETE``,
``PRAGMA``, ``ATTACH``, ``COPY``, ``CALL``, ``SET``, two statements, ...) is not.

The platform's warehouses speak BigQuery or Snowflake SQL, the sandbox's SQLite, so the text is
parsed by sqlglot in each of those dialects and its generic one: permissively (a dialect that
cannot parse the text is skipped) and conservatively (the text is read-only only when every
dialect that parses it finds a read). Text that no dialect parses is not read-only either: the
warehouse may still understand and run it, and nobody here can tell what it would do.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

#: Dialects tried, with the names people know them by ("" is sqlglot's generic SQL).
DIALECTS: dict[str, str] = {"bigquery": "BigQuery", "snowflake": "Snowflake", "sqlite": "SQLite", "": "generic SQL"}
#: Function names (upper case) that act on the warehouse when selected; sqlglot parses them as
#: unknown functions. Snowflake's SYSTEM$ family (cancel queries, abort sessions, ...) is
#: matched by prefix.
SIDE_EFFECT_FUNCTIONS = frozenset({"LOAD_EXTENSION", "WRITEFILE", "EDIT"})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class SqlVerdict:
    read_only: bool
    #: For people: what the text is ("a read-only SELECT", "a DELETE statement", ...).
    detail: str


@functools.cache
def _forbidden() -> tuple[type[exp.Expr], ...]:
    """Node types that mean the text does more than read, wherever they appear in the tree."""
    from sqlglot import exp

    names = (
        "DML", "DDL", "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "TruncateTable",
        "Into", "Lock", "Command", "Pragma", "Copy", "Attach", "Detach", "Transaction", "Commit",
        "Rollback", "Set", "Use", "Grant", "Revoke", "Cache", "Uncache", "Refresh", "LoadData",
        "Analyze", "Kill", "Execute", "Export", "Describe", "Show", "Summarize",
    )  # fmt: skip
    return tuple(t for name in names if isinstance(t := getattr(exp, name, None), type))


def _statement_name(node: exp.Expr) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return {"truncatetable": "TRUNCATE", "loaddata": "LOAD DATA"}.get(node.key, node.key.upper())


def _a(word: str) -> str:
    return ("an " if word[:1] in "AEIOU" else "a ") + word


def _judge(statements: list[exp.Expr | None]) -> SqlVerdict:
    """The verdict on one dialect's parse."""
    from sqlglot import exp

    found = [s for s in statements if s is not None]
    if not found:
        return SqlVerdict(False, "is empty")
    if len(found) > 1:
        return SqlVerdict(False, f"has {len(found)} statements (only one SELECT is a read)")
    root = found[0]
    forbidden = _forbidden()
    if isinstance(root, forbidden):
        return SqlVerdict(False, f"is {_a(_statement_name(root))} statement, not a SELECT")
    if not isinstance(root, exp.Select | exp.SetOperation | exp.Subquery):
        return SqlVerdict(False, "is not a SELECT statement")
    for node in root.walk():
        if isinstance(node, exp.Into):
            return SqlVerdict(False, "writes its result into a table (SELECT ... INTO)")
        if isinstance(node, exp.Lock):
            return SqlVerdict(False, "locks the rows it reads (FOR UPDATE / FOR SHARE)")
        if isinstance(node, forbidden):
            return SqlVerdict(False, f"contains {_a(_statement_name(node))} statement inside the SELECT")
        if isinstance(node, exp.Anonymous):
            name = str(node.name).upper()
            if name in SIDE_EFFECT_FUNCTIONS or name.startswith("SYSTEM$"):
                return SqlVerdict(False, f"calls {name}, which acts on the warehouse")
    return SqlVerdict(True, "is a read-only SELECT")


def _short(exc: Exception) -> str:
    text = _ANSI.sub("", str(exc)).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 120 else first[:117] + "..."


@functools.lru_cache(maxsize=256)
def classify(sql: str) -> SqlVerdict:
    """Whether ``sql`` is a single read-only query, and why not."""
    import sqlglot

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback warnings are not for users
    verdicts: list[SqlVerdict] = []
    errors: list[str] = []
    for dialect, label in DIALECTS.items():
        try:
            statements = sqlglot.parse(sql, read=dialect or None)
        except Exception as exc:  # ParseError, TokenError, and whatever a dialect trips on: not parsed
            errors.append(f"{label}: {_short(exc)}")
            continue
        verdicts.append(_judge(statements))
    if not verdicts:
        return SqlVerdict(
            False,
            f"could not be parsed as SQL in any of {', '.join(DIALECTS.values())} ({errors[0]}), "
            "so nothing shows that it only reads",
        )
    for verdict in verdicts:
        if not verdict.read_only:
            return verdict
    return verdicts[0]
