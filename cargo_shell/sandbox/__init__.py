"""The embedded sandbox: a local Cargo-compatible API on SQLite (see README.md here)."""
