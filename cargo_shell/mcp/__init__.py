"""``cargo-shell mcp``: the seven skill tools served over the Model Context Protocol.

A thin front end. Tool calls are decoded by the agent's :class:`~cargo_shell.agent.tools.Toolbox`
and run by the one executor (policy, deny rules, guards, rollout, job store, audit log); results
are the agent's payloads, masked and trimmed. What differs is who is asked: a person, through the
client's elicitation (:mod:`.confirm`). The model's arguments never approve anything.

Modules: :mod:`.command` (argument parsing, start-up), :mod:`.server` (the protocol handlers and
the thread a call runs in), :mod:`.bridge` (one tool call through the executor), :mod:`.confirm`
(the person's answer, or the refusal with the plan), :mod:`.rounds` (the same question on the
2026-07-28 era), :mod:`.progress` (job events as progress notifications), :mod:`.cancel` (a
cancelled call reaches the executor through its sleep), :mod:`.http` (streamable HTTP on loopback).
"""
