"""The sandbox WSGI application: auth, routing, JSON errors, request ids and faults."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cargo_shell.sandbox.db import Database
from cargo_shell.sandbox.faults import BEFORE_STATUSES, ConnectionDropped, FaultSpec
from cargo_shell.sandbox.http import (
    ApiError,
    Ctx,
    JsonResponse,
    Request,
    Router,
    StreamResponse,
    parse_json_body,
    parse_multipart,
    parse_query,
)

log = logging.getLogger("cargo_shell.sandbox")

StartResponse = Callable[..., Any]
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _status_line(status: int) -> str:
    return f"{status} {REASONS.get(status, 'Status')}"


class SandboxApp:
    """WSGI callable; ``db``, ``engine`` and ``faults`` may be replaced in-process."""

    def __init__(
        self,
        db: Database,
        router: Router,
        *,
        clock: Callable[[], float],
        faults: FaultSpec | None,
        base_url: str,
        engine: Any,
    ) -> None:
        self.db = db
        self.router = router
        self.clock = clock
        self.faults = faults
        self.base_url = base_url.rstrip("/")
        self.engine = engine
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()
        self.db.close()

    # -- WSGI -----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = "req_" + uuid.uuid4().hex[:20]
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _request_path(environ)
        fault = self.faults.draw(path or "") if self.faults else None
        if self.faults and self.faults.latency_s and (path or "").startswith(self.faults.match):
            self.sleep(self.faults.latency_s)
        if fault in BEFORE_STATUSES:
            return self._fault_response(int(fault or 500), request_id, start_response)
        if fault == "reset":
            raise ConnectionDropped()
        try:
            if path is None:
                raise ApiError(400, "The request path is not valid UTF-8 or holds control characters", "invalidPath")
            with self.db.request_scope():  # a concurrent `sandbox reset` waits for it, or it for the reset
                response = self._dispatch(method, path, environ)
        except ApiError as exc:
            response = JsonResponse(exc.body(), exc.status, exc.headers)
        except Exception:
            log.exception("sandbox handler failed: %s %s (%s)", method, path, request_id)
            response = JsonResponse(
                {
                    "errorMessage": "Internal sandbox error",
                    "reason": "internalError",
                    "requestId": request_id,
                },
                500,
            )
        if fault == "500after":
            return self._fault_response(500, request_id, start_response)
        if fault == "resetafter":
            raise ConnectionDropped()
        return self._send(response, request_id, start_response)

    def _fault_response(self, status: int, request_id: str, start_response: StartResponse) -> Iterable[bytes]:
        body = {"errorMessage": f"Sandbox fault injection: simulated HTTP {status}", "reason": "sandboxFault"}
        headers = {"retry-after": str(self.faults.retry_after_s)} if self.faults and status in (429, 503) else {}
        return self._send(JsonResponse(body, status, headers), request_id, start_response)

    def _send(
        self, response: JsonResponse | StreamResponse, request_id: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        headers = [("x-request-id", request_id), *response.headers.items()]
        if isinstance(response, StreamResponse):
            headers.append(("content-type", response.content_type))
            start_response(_status_line(response.status), headers)
            return _closing(response.iterable)
        payload = json.dumps(response.obj, ensure_ascii=False, separators=(",", ":")).encode()
        headers += [
            ("content-type", "application/json; charset=utf-8"),
            ("content-length", str(len(payload))),
        ]
        start_response(_status_line(response.status), headers)
        return [payload]

    def _dispatch(self, method: str, path: str, environ: dict[str, Any]) -> JsonResponse | StreamResponse:
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        try:
            matched = self.router.match(method, path)
        except ApiError:  # a known path asked with another method: 405, after authentication
            if path.startswith("/v1/"):
                self._authenticate(headers)
            raise
        if matched is None:
            if path.startswith("/v1/"):
                self._authenticate(headers)  # the real API answers 401 before 404
            why = self.router.why_not(path)
            raise ApiError(404, f"No sandbox route for {method} {path}{why}", "routeNotFound")
        route, params = matched
        ctx = self._authenticate(headers) if route.auth else self._anonymous()
        content_type = environ.get("CONTENT_TYPE", "") or ""
        body = _read_body(environ)
        files: dict[str, tuple[str, bytes, str]] = {}
        form: dict[str, str] = {}
        payload: Any = None
        if content_type.startswith("multipart/form-data"):
            files, form = parse_multipart(content_type, body)
        elif body:
            payload = parse_json_body(body)
        request = Request(
            method=method,
            path=path,
            path_params=params,
            query=parse_query(environ.get("QUERY_STRING", "")),
            json=payload,
            files=files,
            headers=headers,
            ctx=ctx,
            form=form,
        )
        result = route.handler(request)
        if isinstance(result, JsonResponse | StreamResponse):
            return result
        return JsonResponse(result)

    def _anonymous(self) -> Ctx:
        return Ctx(self.db, "", "", "", self.clock, self.engine, self.base_url, False)

    def _authenticate(self, headers: dict[str, str]) -> Ctx:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized", "unauthorized")
        row = self.db.one(
            "SELECT t.uuid, t.workspace_uuid, t.user_uuid, r.slug AS role_slug FROM tokens t"
            " JOIN memberships m ON m.workspace_uuid = t.workspace_uuid AND m.user_uuid = t.user_uuid"
            " LEFT JOIN roles r ON r.uuid = m.role_uuid"
            " WHERE t.token_hash = ? AND t.deleted_at IS NULL",
            (hash_token(token.strip()),),
        )
        if row is None:
            raise ApiError(401, "Unauthorized", "unauthorized")
        selected = headers.get("selected-workspace-uuid")
        if selected and selected != row["workspace_uuid"]:
            raise ApiError(403, "This token does not give access to the selected workspace", "forbidden")
        return Ctx(
            db=self.db,
            workspace_uuid=row["workspace_uuid"],
            user_uuid=row["user_uuid"],
            token_uuid=row["uuid"],
            clock=self.clock,
            engine=self.engine,
            base_url=self.base_url,
            is_admin=row["role_slug"] == "admin",
        )


def _request_path(environ: dict[str, Any]) -> str | None:
    """PATH_INFO as text. Servers hand over the path's bytes decoded as latin-1 (PEP 3333), so they are
    re-decoded as UTF-8 (an in-process transport may already give text); None when it is not valid."""
    path = environ.get("PATH_INFO", "/") or "/"
    try:
        path = path.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        pass  # already text beyond latin-1
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return None
    return str(path)


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if not length:
        return b""
    if not str(length).isdigit():
        raise ApiError(400, f"Invalid Content-Length {length!r}", "invalidRequest")
    return bytes(stream.read(int(length)))


def _closing(iterable: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from iterable
    finally:
        close = getattr(iterable, "close", None)
        if callable(close):
            close()


def build_router() -> Router:
    """Every domain's routes (importing the domain modules also registers their migrations)."""
    from cargo_shell.sandbox import modules  # the domain modules import this one (hash_token)

    return modules.build_router()


def create_app(
    db_path: Path,
    *,
    clock: Callable[[], float] = time.time,
    faults: FaultSpec | None = None,
    base_url: str = "http://sandbox.local",
) -> SandboxApp:
    """Open (and migrate) the database at ``db_path`` and build the app with every domain."""
    from cargo_shell.sandbox.engine import create_engine

    router = build_router()  # imports the domain modules first, so their migrations are registered
    db = Database(db_path)
    db.migrate()
    engine = create_engine(db, clock)
    return SandboxApp(db, router, clock=clock, faults=faults, base_url=base_url, engine=engine)
