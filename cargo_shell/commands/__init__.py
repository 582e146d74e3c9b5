"""Front-end neutral commands: words → :func:`~cargo_shell.commands.resolve.resolve` → an invocation →
:func:`~cargo_shell.commands.execute.execute` → a result the front end renders.

Nothing is imported here: the shell's first prompt imports :mod:`cargo_shell.commands.context`
without the registry, the parser or the executor.
"""
