"""``context runtime execute`` in the sandbox: four file commands, interpreted, never run.

The platform runs any command in a container holding a clone of the repository and pushes what
it changed. The sandbox runs no code. It does interpret ``ls``, ``cat``, ``mv`` and ``rm`` on its
stored files, because they have one deterministic meaning there and are the only way to list
with a shell's eye, move or delete a note (write and edit only create and change files).
Their output, messages and exit codes follow coreutils; a change of the tree is one commit.
Any other command answers 422 ``unavailableInSandbox``.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

from cargo_shell.sandbox.domains.context_store import all_paths, clean_path, commit, file_content, repository, stamp_of
from cargo_shell.sandbox.fields import strings, text
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request

COMMANDS = ("ls", "cat", "mv", "rm")
MAX_OUTPUT_CHARS = 1_000_000


@dataclass
class _Run:
    paths: list[str]
    read: Any
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    code: int = 0
    writes: dict[str, bytes] = field(default_factory=dict)
    removes: list[str] = field(default_factory=list)

    def fail(self, message: str, code: int = 1) -> None:
        self.err.append(message)
        self.code = max(self.code, code)

    def is_file(self, path: str) -> bool:
        return path in self.paths

    def is_folder(self, path: str) -> bool:
        return not path or any(p.startswith(path + "/") for p in self.paths)

    def under(self, folder: str) -> list[str]:
        return [p for p in self.paths if p.startswith(folder + "/")]


def _operand(run: _Run, command: str, raw: str) -> str | None:
    try:
        return clean_path(raw, root_ok=True)
    except ApiError as exc:
        run.fail(f"{command}: {raw}: {exc.message}")
        return None


def _ls(run: _Run, args: list[str]) -> None:
    targets = [a for a in args if not a.startswith("-")] or ["."]
    for i, raw in enumerate(targets):
        path = _operand(run, "ls", raw)
        if path is None:
            continue
        if run.is_file(path):
            run.out.append(raw)
            continue
        if not run.is_folder(path):
            run.fail(f"ls: cannot access '{raw}': No such file or directory", 2)
            continue
        prefix = path + "/" if path else ""
        names = sorted({p[len(prefix) :].split("/", 1)[0] for p in run.paths if p.startswith(prefix)})
        if len(targets) > 1:
            run.out.append(("\n" if i else "") + f"{raw}:")
        run.out.extend(names)


def _cat(run: _Run, args: list[str]) -> None:
    if not args:
        run.fail("cat: reading standard input is not possible here: name the files")
    for raw in args:
        path = _operand(run, "cat", raw)
        if path is None:
            continue
        if run.is_folder(path):
            run.fail(f"cat: {raw}: Is a directory")
        elif not run.is_file(path):
            run.fail(f"cat: {raw}: No such file or directory")
        else:
            run.out.append(run.read(path).decode("utf-8", "replace").removesuffix("\n"))


def _rm(run: _Run, args: list[str]) -> None:
    flags = "".join(a[1:] for a in args if a.startswith("-") and a != "-")
    recursive, force = "r" in flags.lower(), "f" in flags
    operands = [a for a in args if not a.startswith("-") or a == "-"]
    if not operands and not force:
        run.fail("rm: missing operand")
    for raw in operands:
        path = _operand(run, "rm", raw)
        if path is None:
            continue
        if not path:
            run.fail("rm: refusing to remove the repository root")
        elif run.is_file(path):
            run.removes.append(path)
        elif run.is_folder(path):
            if recursive:
                run.removes.extend(run.under(path))
            else:
                run.fail(f"rm: cannot remove '{raw}': Is a directory")
        elif not force:
            run.fail(f"rm: cannot remove '{raw}': No such file or directory")
        run.paths = [p for p in run.paths if p not in run.removes]


def _mv(run: _Run, args: list[str]) -> None:
    operands = [a for a in args if not a.startswith("-")]
    if len(operands) < 2:
        run.fail("mv: missing destination file operand" if operands else "mv: missing file operand")
        return
    *sources, raw_dest = operands
    dest = _operand(run, "mv", raw_dest)
    if dest is None:
        return
    into = run.is_folder(dest)
    if len(sources) > 1 and not into:
        run.fail(f"mv: target '{raw_dest}' is not a directory")
        return
    for raw in sources:
        src = _operand(run, "mv", raw)
        if src is None:
            continue
        if not src or not (run.is_file(src) or run.is_folder(src)):
            run.fail(f"mv: cannot stat '{raw}': No such file or directory")
            continue
        target = posixpath.join(dest, posixpath.basename(src)) if into else dest
        if target == src or target.startswith(src + "/"):
            run.fail(f"mv: cannot move '{raw}' to a subdirectory of itself, '{raw_dest}'")
            continue
        moves = {src: target} if run.is_file(src) else {p: target + p[len(src) :] for p in run.under(src)}
        for old, new in moves.items():
            run.writes[new] = run.writes.pop(old) if old in run.writes else run.read(old)
            run.removes.append(old)
        run.paths = sorted((set(run.paths) - set(moves)) | set(moves.values()))
    run.removes = [p for p in run.removes if p not in run.writes]


HANDLERS = {"ls": _ls, "cat": _cat, "mv": _mv, "rm": _rm}


def execute(req: Request) -> dict[str, Any]:
    ctx, body = req.ctx, req.body()
    command = text(body, "command")
    if not command or not command.strip():
        raise ApiError(400, "command is required", "invalidBody")
    try:
        words = shlex.split(command) + list(strings(body, "args") or [])
    except ValueError as exc:
        raise ApiError(400, f"command cannot be split into words: {exc}", "invalidBody") from None
    name, args = words[0], words[1:]
    if name not in HANDLERS:
        raise ApiError(
            UNAVAILABLE_STATUS,
            f"Running {name!r} is not available in the sandbox: it runs no programs. It interprets only "
            f"{', '.join(COMMANDS)} on the repository's files (use context runtime read/write/edit for the rest)",
            "unavailableInSandbox",
        )
    repository(ctx.db, ctx.workspace_uuid, stamp_of(ctx))
    with ctx.db.transaction() as conn:
        paths = all_paths(ctx.db, ctx.workspace_uuid)
        run = _Run(paths, lambda p: file_content(ctx.db, ctx.workspace_uuid, p) or b"")
        HANDLERS[name](run, args)
        result: dict[str, Any] = {
            "exitCode": run.code,
            "stdout": _joined(run.out),
            "stderr": _joined(run.err),
        }
        if run.writes or run.removes:
            message = (text(body, "commitMessage") or "").strip() or f"Run {shlex.join(words)}"
            result["commit"] = commit(conn, ctx.workspace_uuid, message, stamp_of(ctx), run.writes, run.removes)
    return result


def _joined(lines: list[str]) -> str:
    out = "\n".join(lines) + ("\n" if lines else "")
    return out if len(out) <= MAX_OUTPUT_CHARS else out[:MAX_OUTPUT_CHARS] + "\n[output cut]\n"
