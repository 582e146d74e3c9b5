"""Skill guides (one SKILL.md per folder) that teach an agent how to drive the cargo-shell commands."""
