"""The Cargo REST client: one httpx.Client (injected), auth headers, error mapping.

It sends exactly one HTTP request per call and never retries: retries, confirmation and
polling belong to the executor, which is the only caller.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

import httpx

from cargo_shell import __version__
from cargo_shell.api.query import encode_query
from cargo_shell.api.request import ApiRequest
from cargo_shell.errors import AmbiguousNetworkError, ConnectError, NetworkError, status_error

DEFAULT_BASE_URL = "https://api.getcargo.io"
DEFAULT_TIMEOUT_S = 360.0
#: The official client keeps nulls under these keys and turns every other null into "absent".
_KEEP_NULLS = frozenset({"runContext", "runComputedConfigs", "computedConfig", "testRecords"})


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (v if k in _KEEP_NULLS else drop_nulls(v)) for k, v in value.items() if v is not None or k in _KEEP_NULLS
        }
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def normalise_base_url(base_url: str) -> str:
    """The official client appends ``/v1`` itself; accept a base URL given with or without it."""
    url = base_url.strip().rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


@dataclass
class ApiResponse:
    status: int
    data: Any
    request_id: str | None


class CargoClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        workspace_uuid: str | None = None,
        origin: str = "cargo-shell",
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.http = http
        self.base_url = normalise_base_url(base_url)
        self._token = token
        self.workspace_uuid = workspace_uuid
        self.origin = origin
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0))

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def headers(self) -> dict[str, str]:
        h = {"x-cargo-origin": self.origin, "x-cargo-origin-version": __version__}
        if self._token:
            h["authorization"] = f"Bearer {self._token}"
        if self.workspace_uuid:
            h["selected-workspace-uuid"] = self.workspace_uuid
        return h

    def url_for(self, req: ApiRequest) -> str:
        qs = encode_query(req.query)
        return f"{self.base_url}{req.path}" + (f"?{qs}" if qs else "")

    def send(self, req: ApiRequest) -> ApiResponse:
        headers = self.headers()
        content: bytes | None = None
        with ExitStack() as stack:
            files = None
            if req.files:
                files = {name: (p.name, stack.enter_context(p.open("rb"))) for name, p in req.files.items()}
            elif req.has_body:
                headers["content-type"] = "application/json"
                content = json.dumps(req.json, separators=(",", ":")).encode()
            try:
                response = self.http.request(
                    req.method,
                    self.url_for(req),
                    headers=headers,
                    content=content,
                    data=req.form or None,
                    files=files,
                    timeout=self.timeout,
                )
            except httpx.ConnectError as exc:
                raise ConnectError(f"Could not connect to {self.base_url}: {exc}") from exc
            except httpx.ConnectTimeout as exc:
                raise ConnectError(f"Timed out connecting to {self.base_url}") from exc
            except httpx.TimeoutException as exc:
                raise AmbiguousNetworkError(
                    f"The request to {req.path} timed out; the server may still have processed it"
                ) from exc
            except httpx.TransportError as exc:
                raise AmbiguousNetworkError(
                    f"The connection broke during {req.method} {req.path} ({type(exc).__name__}); "
                    "the server may have processed it"
                ) from exc
        return self._handle(response)

    def _handle(self, response: httpx.Response) -> ApiResponse:
        request_id = response.headers.get("x-request-id")
        text = response.text
        try:
            data: Any = json.loads(text) if text else None
        except ValueError:
            data = text
        if response.is_success:
            return ApiResponse(response.status_code, drop_nulls(data), request_id)
        body = data if isinstance(data, dict) else {}
        message = body.get("errorMessage") or _default_message(response.status_code)
        reason = body.get("reason")
        if reason is None and isinstance(body.get("dataError"), dict):
            reason = body["dataError"].get("reason")
        retry_after = _retry_after(response.headers.get("retry-after"))
        raise status_error(
            response.status_code,
            str(message),
            reason=reason,
            request_id=request_id,
            body=data,
            retry_after=retry_after,
        )

    def stream_url(self, url: str, sink: IO[bytes]) -> int:
        """Stream a signed download URL into ``sink`` chunk by chunk; returns bytes written.

        Signed URLs are absolute and carry their own authorisation, so no token is sent.
        """
        written = 0
        try:
            with self.http.stream("GET", url, timeout=self.timeout) as response:
                if not response.is_success:
                    response.read()
                    raise status_error(response.status_code, f"Download failed with HTTP {response.status_code}")
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except httpx.TransportError as exc:
            raise NetworkError(f"Download interrupted: {exc}") from exc
        return written

    def close(self) -> None:
        self.http.close()


def _default_message(status: int) -> str:
    return {
        401: "Unauthorized: the API token is missing, wrong or expired",
        403: "Forbidden: this token cannot access that workspace or resource",
        404: "Not found",
        429: "Too many requests",
    }.get(status, f"HTTP {status}")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
