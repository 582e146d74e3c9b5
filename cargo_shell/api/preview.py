"""A bounded look at a downloaded file when there is nowhere to write it.

A command whose answer is a file's bytes (``ai file read-bytes``) streams into the file or stdout
the command line gives it. The agent and the shell's direct commands have no such sink: they get
the size, the content type and, for text, its first characters, so a large or binary file never
lands whole in memory or in a conversation.
"""

from __future__ import annotations

import io
from typing import Any

#: Bytes kept for the preview; the rest is counted, not stored.
PREVIEW_BYTES = 16 * 1024


class PreviewSink(io.BytesIO):
    """A write-only sink that keeps the first :data:`PREVIEW_BYTES` bytes and counts every byte."""

    def __init__(self, limit: int = PREVIEW_BYTES) -> None:
        super().__init__()
        self.limit = limit
        self.seen = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        room = self.limit - self.tell()
        if room > 0:
            super().write(chunk[:room])
        self.seen += len(chunk)
        return len(chunk)

    def summary(self, answer: Any) -> dict[str, Any]:
        """What the caller sees: ``bytes``, ``contentType``, ``truncated`` and ``text`` (None for binary data)."""
        kept = self.getvalue()
        content_type = answer.get("contentType") if isinstance(answer, dict) else None
        truncated = self.seen > len(kept)
        try:
            text: str | None = kept.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a cut in the middle of a multi-byte character at the end of the preview is still text
            text = kept[: exc.start].decode("utf-8") if truncated and exc.start >= len(kept) - 3 else None
        if text is not None and "\x00" in text:
            text = None
        return {"bytes": self.seen, "contentType": content_type, "truncated": truncated, "text": text}
