"""The Cargo REST client: one httpx.Client (injected), auth headers, error mapping.

It sends exactly one HTTP request per call and never retries: retries, confirmation and
polling belong to the executor, which is the only caller.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

import httpx

from cargo_shell import __version__
from cargo_shell.api.query import encode_query
from cargo_shell.api.request import ApiRequest
from cargo_shell.constants import DEFAULT_BASE_URL, DEFAULT_TIMEOUT_S
from cargo_shell.errors import AmbiguousNetworkError, ApiError, ConnectError, NetworkError, UsageError, status_error
from cargo_shell.secrets import remember

_URL_CACHE_SIZE = 256
#: The official client keeps nulls under these keys and turns every other null into "absent".
_KEEP_NULLS = frozenset({"runContext", "runComputedConfigs", "computedConfig", "testRecords"})


def drop_nulls(value: Any) -> Any:
    """A copy of ``value`` without null object members (except under :data:`_KEEP_NULLS` keys)."""
    if isinstance(value, dict):
        return {
            k: (v if k in _KEEP_NULLS else drop_nulls(v)) for k, v in value.items() if v is not None or k in _KEEP_NULLS
        }
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


#: Finds a key whose nulls are kept (then the full walk is used).
_KEEP_NULL_KEY = re.compile("|".join(f'"{key}"' for key in sorted(_KEEP_NULLS)))


def _without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """``json.loads`` object hook: drop null members in place (the dict is fresh from the parser)."""
    if None in obj.values():
        for key in [k for k, v in obj.items() if v is None]:
            del obj[key]
    return obj


_decode_dropping_nulls = json.JSONDecoder(object_hook=_without_nulls).decode


def parse_json(content: bytes) -> Any:
    """Parse a JSON response body the way the official client presents it (nulls dropped).

    Same result as ``drop_nulls(json.loads(content))``, cheaper: the parser's object hook
    drops null members as it builds each object, and a body without the word ``null`` needs
    no hook at all. The full walk stays for bodies that are not plain UTF-8 JSON objects or
    arrays and for those naming a key whose nulls are kept.
    """
    if content[:1] not in (b"{", b"["):
        return drop_nulls(json.loads(content))
    text = content.decode("utf-8")
    if "null" not in text:
        return json.loads(text)
    if _KEEP_NULL_KEY.search(text):
        return drop_nulls(json.loads(text))
    return _decode_dropping_nulls(text)


#: The settings that travel in headers, by constructor argument: what to call them in a message.
HEADER_SETTINGS = {"token": "API token", "workspace_uuid": "workspace UUID"}


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be an HTTP header value as cargo-shell sends it (visible ASCII), or None.

    Says which character and where, never the value itself (it may be a secret).
    """
    for index, char in enumerate(value, start=1):
        code = ord(char)
        if 0x21 <= code <= 0x7E:
            continue
        where = f"character {index} of {len(value)}"
        if char in "\r\n":
            return f"contains a line break ({where}; a value read from a file often ends with one)"
        if char == " ":
            return f"contains a space ({where})"
        if code < 0x20 or code == 0x7F:
            return f"contains the control character U+{code:04X} ({where})"
        return f"contains the non-ASCII character U+{code:04X} ({where}); tokens and UUIDs are plain ASCII"
    return None


def check_header_settings(values: dict[str, str | None], origins: dict[str, str] | None = None) -> None:
    """Refuse, before anything is sent, a token or workspace UUID that cannot go into a header.

    ``origins`` names where each setting came from (e.g. "the environment variable CARGO_API_TOKEN").
    """
    for key, value in values.items():
        if not value:
            continue
        problem = header_value_problem(value)
        if problem is None:
            continue
        origin = (origins or {}).get(key)
        name = HEADER_SETTINGS.get(key, key)
        raise UsageError(
            f"The {name}{f' from {origin}' if origin else ''} {problem}. It cannot be sent in an HTTP header, "
            "so nothing was sent.",
            hint=f"Set the {name} again without that character.",
        )


def check_base_url(url: str, origin: str | None = None) -> None:
    """Refuse a base URL that is not ``http(s)://host[...]`` before any request is tried (and retried)."""
    problem = header_value_problem(url)
    if problem is None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            problem = f"is not a URL ({exc})"
        else:
            if parsed.scheme not in ("http", "https") or not parsed.host:
                problem = "is not an http:// or https:// URL with a host"
    if problem:
        raise UsageError(
            f"The API base URL{f' from {origin}' if origin else ''} {problem}; nothing was sent.",
            hint=f"Give it like {DEFAULT_BASE_URL} (the /v1 suffix is optional).",
        )


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
        origins: dict[str, str] | None = None,
    ) -> None:
        """``origins`` names where the token and workspace UUID came from, for the error that refuses them."""
        check_header_settings({"token": token, "workspace_uuid": workspace_uuid}, origins)
        self.http = http
        self.base_url = normalise_base_url(base_url)
        check_base_url(self.base_url, (origins or {}).get("base_url"))
        self._token = token
        remember(token)  # masked by value in everything that leaves the process
        self.workspace_uuid = workspace_uuid
        self.origin = origin
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0))
        self._headers_for: tuple[str | None, str | None, str] | None = None
        self._headers: dict[str, str] = {}
        self._urls: dict[str, httpx.URL] = {}

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def secrets(self) -> tuple[str, ...]:
        """The values output must never show (the API token), for maskers; empty without a token."""
        return (self._token,) if self._token else ()

    def headers(self) -> dict[str, str]:
        """The headers of every API request (a fresh dict; built once per token/workspace)."""
        key = (self._token, self.workspace_uuid, self.origin)
        if key != self._headers_for:
            check_header_settings({"token": self._token, "workspace_uuid": self.workspace_uuid})
            h = {"x-cargo-origin": self.origin, "x-cargo-origin-version": __version__}
            if self._token:
                h["authorization"] = f"Bearer {self._token}"
            if self.workspace_uuid:
                h["selected-workspace-uuid"] = self.workspace_uuid
            self._headers, self._headers_for = h, key
        return dict(self._headers)

    def url_for(self, req: ApiRequest) -> str:
        if not req.query:
            return self.base_url + req.path
        qs = encode_query(req.query)
        return f"{self.base_url}{req.path}" + (f"?{qs}" if qs else "")

    def _url(self, req: ApiRequest) -> httpx.URL:
        """The parsed URL; parsing is a good part of httpx's cost per request, and reads and
        polls ask for the same few URLs again and again, so parsed URLs are kept (bounded)."""
        text = self.url_for(req)
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            try:
                url = httpx.URL(text)
            except httpx.InvalidURL as exc:
                raise UsageError(
                    f"The request to {req.path[:80]} cannot be sent: {exc} ({len(text)} characters); nothing was sent",
                    hint="Give fewer or shorter values (long lists can often be split over several calls).",
                ) from None
            self._urls[text] = url
        return url

    def send(self, req: ApiRequest) -> ApiResponse:
        if req.files:
            with ExitStack() as stack:
                files = {name: (p.name, stack.enter_context(p.open("rb"))) for name, p in req.files.items()}
                return self._send(req, self.headers(), None, files)
        if req.has_body:
            headers = self.headers()
            headers["content-type"] = "application/json"
            return self._send(req, headers, json.dumps(req.json, separators=(",", ":")).encode(), None)
        return self._send(req, self.headers(), None, None)

    def _send(self, req: ApiRequest, headers: dict[str, str], content: bytes | None, files: Any) -> ApiResponse:
        try:
            response = self.http.request(
                req.method,
                self._url(req),
                headers=headers,
                content=content,
                data=req.form or None,
                files=files,
                timeout=self.timeout,
            )
        except httpx.TransportError as exc:
            raise self._transport_error(req, exc) from exc
        return self._handle(response)

    def _transport_error(self, req: ApiRequest, exc: httpx.TransportError) -> NetworkError:
        if isinstance(exc, httpx.ConnectError):
            return ConnectError(f"Could not connect to {self.base_url}: {exc}")
        if isinstance(exc, httpx.ConnectTimeout):
            return ConnectError(f"Timed out connecting to {self.base_url}")
        if isinstance(exc, httpx.TimeoutException):
            return AmbiguousNetworkError(f"The request to {req.path} timed out; the server may still have processed it")
        return AmbiguousNetworkError(
            f"The connection broke during {req.method} {req.path} ({type(exc).__name__}); "
            "the server may have processed it"
        )

    def stream(self, req: ApiRequest, sink: IO[bytes]) -> ApiResponse:
        """Send ``req`` (no upload) and write a successful answer's body into ``sink`` as it arrives.

        For operations whose answer is a file's bytes. An error answer is read whole and raised as by
        :meth:`send`; the data of a success is ``{"bytes": n, "contentType": ...}``. A connection that
        breaks once bytes were written is not retryable (the sink holds part of the file): it raises
        a plain :class:`ApiError` saying so.
        """
        headers = self.headers()
        content = None
        if req.has_body:
            headers["content-type"] = "application/json"
            content = json.dumps(req.json, separators=(",", ":")).encode()
        written = 0
        try:
            with self.http.stream(
                req.method, self._url(req), headers=headers, content=content, timeout=self.timeout
            ) as response:
                if not response.is_success:
                    response.read()
                    return self._handle(response)
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
                data = {"bytes": written, "contentType": response.headers.get("content-type")}
                return ApiResponse(response.status_code, data, response.headers.get("x-request-id"))
        except httpx.TransportError as exc:
            if written:
                raise ApiError(
                    f"The download from {req.path} broke after {written} bytes ({type(exc).__name__}); "
                    "what was written is incomplete",
                    hint="Run the command again to download the whole file.",
                ) from exc
            raise self._transport_error(req, exc) from exc

    def _handle(self, response: httpx.Response) -> ApiResponse:
        request_id = response.headers.get("x-request-id")
        content = response.content
        success = response.is_success
        data: Any = None
        if content:
            try:
                data = parse_json(content) if success else json.loads(content)
            except ValueError:  # not UTF-8, or not JSON (a proxy's error page)
                data = _parse_text(response.text, success)
        if success:
            return ApiResponse(response.status_code, data, request_id)
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


def _parse_text(text: str, success: bool) -> Any:
    """The body decoded by its declared charset: JSON if it parses, else the text itself."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return drop_nulls(data) if success else data


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
