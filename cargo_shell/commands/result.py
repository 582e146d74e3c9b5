"""What running a command gives a front end to render: data, how to find its rows, an exit status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cargo_shell.executor import Outcome


@dataclass
class Result:
    """``data`` is rendered by the front end (JSON, a table); ``key`` names its rows (``jobs``).

    ``text`` is output to print as it is (a completion script); ``streamed`` says the command
    already wrote its output as it ran (a server, a conversation). ``outcome`` is the executor's,
    for an API command or an own command that ran one (``jobs wait``).
    """

    data: Any = None
    key: str | None = None
    status: int = 0
    outcome: Outcome | None = None
    text: str | None = None
    streamed: bool = False
