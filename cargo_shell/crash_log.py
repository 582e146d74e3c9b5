"""The crash log: the traceback of an unexpected error, in the state folder, secrets masked.

The command line and the shell write it the same way; neither shows a traceback to the person
unless asked (``--debug``), they say where it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from cargo_shell.environment import Environment


def crash_log_path(env: Environment) -> Path:
    return env.paths.state_dir / "cargo-shell.log"


def log_crash(env: Environment) -> Path | None:
    """Append the traceback of the exception being handled; its path, or None when it could not be written."""
    import logging

    from cargo_shell.private_files import private_file
    from cargo_shell.secrets import MaskingFormatter

    try:
        path = private_file(crash_log_path(env))
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger = logging.getLogger("cargo_shell.crash")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            logger.error("unexpected error", exc_info=True)
        finally:
            logger.removeHandler(handler)
            handler.close()
    except OSError:
        return None
    return path


def internal_error(env: Environment, exc: Exception, *, debug: bool) -> dict[str, Any]:
    """Record an unexpected exception (its traceback on stderr with --debug, else in the crash log)
    and return the error body every front end shows instead of it."""
    if debug:
        import traceback

        traceback.print_exc(file=env.stderr)
    else:
        log_crash(env)
    from cargo_shell.secrets import mask_text

    text = mask_text(f"{type(exc).__name__}: {exc}")
    return {"errorMessage": f"Internal error: {text}. Re-run with --debug for details."}
