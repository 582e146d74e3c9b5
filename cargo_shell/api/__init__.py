"""HTTP access to the Cargo API."""

from cargo_shell.api.client import CargoClient
from cargo_shell.api.request import ApiRequest, build_request

__all__ = ["ApiRequest", "CargoClient", "build_request"]
