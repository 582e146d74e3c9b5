"""The graph of the context repository: its Markdown notes and the links between them.

A node per ``.md`` file (title from the front matter's ``title``, else the first heading, else the
file name; cluster = its top folder; summary = the front matter's ``description`` or ``summary``).
Edges come from ``[[wikilinks]]`` (resolved from the root, then by file name anywhere), Markdown
links to ``.md`` files (relative to the note) and front matter lists (``related``, ``links``).
A link to no existing note is ``broken``.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from cargo_shell.sandbox.domains.context_store import all_paths, file_content, repository, stamp_of
from cargo_shell.sandbox.http import ApiError, Request

MAX_NOTES = 2000
MAX_NOTE_BYTES = 1024 * 1024
ROOT_CLUSTER = "(root)"
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n?", re.DOTALL)
WIKILINK = re.compile(r"\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]")
MDLINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
LINK_KEYS = ("related", "links")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Flat ``key: value`` front matter (enough for titles and link lists) and the body after it."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "-")):
            fields[key.strip()] = value.strip().strip("\"'")
    return fields, text[match.end() :]


def _listed(value: str) -> list[str]:
    """``[a.md, b.md]`` or ``a.md, b.md`` (wikilink brackets allowed) as targets."""
    inner = value.strip().removeprefix("[").removesuffix("]")
    out = []
    for item in inner.split(","):
        item = item.strip().strip("\"'").removeprefix("[[").removesuffix("]]").strip()
        if item:
            out.append(item)
    return out


class _Resolver:
    def __init__(self, notes: set[str]) -> None:
        self.notes = notes
        self.by_name: dict[str, list[str]] = {}
        for note in sorted(notes):
            self.by_name.setdefault(posixpath.basename(note)[:-3].lower(), []).append(note)

    def wiki(self, target: str) -> str:
        name = target.strip().strip("/")
        candidate = name if name.endswith(".md") else name + ".md"
        if candidate in self.notes:
            return candidate
        found = self.by_name.get(posixpath.basename(candidate)[:-3].lower())
        return found[0] if found and "/" not in name else candidate

    def relative(self, source: str, target: str) -> str:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), target.split("#", 1)[0]))
        return joined.lstrip("./") if joined.startswith("./") else joined


def get_graph(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    repository(ctx.db, ctx.workspace_uuid, stamp_of(ctx))
    notes = [p for p in all_paths(ctx.db, ctx.workspace_uuid) if p.lower().endswith(".md")]
    if len(notes) > MAX_NOTES:
        raise ApiError(400, f"The repository has {len(notes)} notes; the graph covers at most {MAX_NOTES}",
                       "tooManyFiles")  # fmt: skip
    resolver = _Resolver(set(notes))
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    broken: list[dict[str, str]] = []
    for path in notes:
        raw = file_content(ctx.db, ctx.workspace_uuid, path) or b""
        if len(raw) > MAX_NOTE_BYTES:
            raise ApiError(400, f"{path!r} is larger than {MAX_NOTE_BYTES} bytes", "fileTooLarge")
        text = raw.decode("utf-8", "replace")
        fields, body = _front_matter(text)
        heading = HEADING.search(body)
        title = fields.get("title") or (heading.group(1) if heading else posixpath.basename(path)[:-3])
        node: dict[str, Any] = {
            "id": path,
            "title": title,
            "cluster": path.split("/", 1)[0] if "/" in path else ROOT_CLUSTER,
        }
        summary = fields.get("description") or fields.get("summary")
        if summary:
            node["summary"] = summary
        nodes.append(node)
        links: list[tuple[str, str]] = []
        for key in LINK_KEYS:
            links += [("frontmatter", resolver.relative(path, t) if t.endswith(".md") else resolver.wiki(t))
                      for t in _listed(fields.get(key, ""))]  # fmt: skip
        links += [("wikilink", resolver.wiki(m.group(1))) for m in WIKILINK.finditer(body)]
        for m in MDLINK.finditer(body):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or not target.split("#", 1)[0].endswith(".md"):
                continue  # a web link, an anchor or a file that is not a note
            links.append(("mdlink", resolver.relative(path, target)))
        seen: set[tuple[str, str]] = set()
        for origin, target in links:
            if (origin, target) in seen or target == path:
                continue
            seen.add((origin, target))
            edge = {"source": path, "target": target, "origin": origin}
            (edges if target in resolver.notes else broken).append(edge)
    return {"graph": {"nodes": nodes, "edges": edges, "broken": broken, "computedAt": stamp_of(ctx)}}
