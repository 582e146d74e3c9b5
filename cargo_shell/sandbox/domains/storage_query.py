"""Storage query: read-only SQL over the workspace's model tables, answered or exported as CSV.

The same warehouse as the system of record's client (``system_of_record``): one read-only
``SELECT``, tables named ``datasets_<dataset>.models_<model>``, every query logged. An SQL error is
a 400 here (the system of record's ``client query`` answers it as ``outcome: notQueried``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cargo_shell.sandbox.domains.system_of_record import SqlRefused, download_url, query_text, read_rows
from cargo_shell.sandbox.fields import text
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request

FORMATS = ("csv", "parquet")


def execute(req: Request) -> dict[str, Any]:
    sql = query_text(req.body())
    try:
        rows = read_rows(req.ctx, sql)
    except SqlRefused:
        raise
    except sqlite3.Error as exc:
        raise bad_request(f"SQL error: {exc}", "invalidQuery") from None
    return {"rows": rows, "isRefreshing": False}


def download(req: Request) -> dict[str, Any]:
    body = req.body()
    sql = query_text(body)
    fmt = text(body, "format", "csv")
    if fmt not in FORMATS:
        raise bad_request(f"format takes {' or '.join(FORMATS)}, not {fmt!r}", "invalidField")
    if fmt == "parquet":
        message = "Parquet export is not available in the sandbox, which writes CSV only: send format csv"
        raise ApiError(UNAVAILABLE_STATUS, message, "unavailableInSandbox")
    return {"urls": [download_url(req.ctx, sql)], "isRefreshing": False}


def register(router: Router) -> None:
    router.route("POST", "/v1/storage/query")(execute)
    router.route("POST", "/v1/storage/query/download")(download)
