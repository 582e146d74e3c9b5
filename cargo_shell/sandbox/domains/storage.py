"""Storage domain: datasets/models/records and columns/relationships, registered together."""

from __future__ import annotations

from cargo_shell.sandbox.domains import storage_columns, storage_models
from cargo_shell.sandbox.domains.storage_models import dataset_json, model_json
from cargo_shell.sandbox.http import Router

__all__ = ["dataset_json", "model_json", "register"]


def register(router: Router) -> None:
    storage_models.register(router)
    storage_columns.register(router)
