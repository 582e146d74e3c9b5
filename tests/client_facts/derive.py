"""Regenerate the facts about the official Cargo client: ``python -m tests.client_facts.derive 1.0.57``.

A developer tool (CI does not run it; the tests read the committed JSON). It installs
``@cargo-ai/api@VERSION`` — with the ``@cargo-ai/types`` and ``@cargo-ai/utils`` versions that
package depends on — and the TypeScript compiler into a scratch directory with ``npm``, then runs
``extract.mjs`` under ``node`` to read every operation's route from the client's JavaScript and its
parameter and result types from its ``.d.ts``, and writes ``api-VERSION.json`` next to this file.

The result types are the **wire** shapes: before installing, the client's ``ApiType`` and
``DateToString`` helpers are replaced by the identity, so the types read are those of
``@cargo-ai/types`` as the server sends them (``T | null`` stays nullable; the client itself turns
every null into an absent key, which is why its own typings have no nulls), with dates as
``date-time`` strings.

The output is sorted and indented so that the next client version is a readable diff:
``derive 1.0.58 --against 1.0.57`` also prints which operations and shapes were added, removed or
changed; then point ``facts.CLIENT_VERSION`` at the new file and let the tests say what to decide.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The compiler version the client itself is built with (its devDependency); pinned for stable output.
TYPESCRIPT = "5.3.2"
#: Replaces build/src/types.d.ts of the client: wire types, not the null-free client-side view.
WIRE_TYPES = "export type DateToString<T> = T;\nexport type ApiType<T> = T;\n"
#: Objects whose compact form fits on one line are written on one line.
INLINE_WIDTH = 100


def facts_path(version: str) -> Path:
    return HERE / f"api-{version}.json"


def install(version: str, into: Path) -> dict[str, str]:
    """npm-install the client and the compiler; returns the installed package versions."""
    (into / "package.json").write_text('{"name": "client-facts-scratch", "private": true}\n')
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to derive the client facts")
    command = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    subprocess.run([*command, f"@cargo-ai/api@{version}", f"typescript@{TYPESCRIPT}"], cwd=into, check=True)
    versions = {}
    for name in ("@cargo-ai/api", "@cargo-ai/types", "@cargo-ai/utils", "zod", "typescript"):
        manifest = json.loads((into / "node_modules" / name / "package.json").read_text())
        versions[name] = manifest["version"]
    (into / "node_modules" / "@cargo-ai" / "api" / "build" / "src" / "types.d.ts").write_text(WIRE_TYPES)
    return versions


def extract(into: Path) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed to derive the client facts")
    out = subprocess.run(
        [node, str(HERE / "extract.mjs"), str(into)], check=True, capture_output=True, text=True
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def build(version: str, versions: dict[str, str], raw: dict[str, Any]) -> dict[str, Any]:
    operations = sorted(raw["operations"], key=lambda op: op["id"])
    counts: dict[str, int] = {}
    for op in operations:
        counts[op["domain"]] = counts.get(op["domain"], 0) + 1
    return {
        "client": {"package": "@cargo-ai/api", "version": version, "installed": versions},
        "about": [
            "Derived by tests/client_facts/derive.py from the official client; do not edit by hand.",
            "method/path: the request the client makes (path params in braces, named as in the client).",
            "sends: json body, query string, multipart form or none; params[].in: path, query, body or form.",
            "params[].clientName: the client's payload field when the wire name differs.",
            "requiredOneOf: the payload is one of several shapes; the fields each one requires.",
            "result: the wire shape of the answer (null: no body). nullable: the server may send null; "
            "absent from required: the key may be missing.",
            "response: json, blob (raw bytes) or upload (the multipart upload flow).",
            "$ref names a shape in definitions.",
        ],
        "counts": {"operations": len(operations), "per_domain": dict(sorted(counts.items()))},
        "operations": operations,
        "definitions": raw["definitions"],
    }


def dump(value: Any, indent: int = 0) -> str:
    """JSON with sorted keys, one member per line, short objects and arrays kept on one line."""
    compact = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(compact) + indent <= INLINE_WIDTH or not isinstance(value, (dict, list)) or not value:
        return compact
    pad = " " * (indent + 1)
    if isinstance(value, list):
        items = [pad + dump(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    members = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {dump(value[k], indent + 1)}" for k in sorted(value)]
    return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two facts files, one line per operation or shape."""
    before = {op["id"]: op for op in old["operations"]}
    after = {op["id"]: op for op in new["operations"]}
    lines = [f"+ {i} ({after[i]['method']} {after[i]['path']})" for i in sorted(after.keys() - before.keys())]
    lines += [f"- {i} ({before[i]['method']} {before[i]['path']})" for i in sorted(before.keys() - after.keys())]
    for i in sorted(before.keys() & after.keys()):
        fields = sorted(k for k in before[i].keys() | after[i].keys() if before[i].get(k) != after[i].get(k))
        if fields:
            lines.append(f"~ {i}: {', '.join(fields)}")
    defs_before, defs_after = old["definitions"], new["definitions"]
    for name in sorted(defs_before.keys() | defs_after.keys()):
        if defs_before.get(name) != defs_after.get(name):
            mark = "+" if name not in defs_before else "-" if name not in defs_after else "~"
            lines.append(f"{mark} shape {name}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="@cargo-ai/api version, e.g. 1.0.57")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    parser.add_argument("--against", metavar="VERSION", help="print what changed since this version's facts")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="client-facts-"))
    try:
        versions = install(args.version, scratch)
        facts = build(args.version, versions, extract(scratch))
    finally:
        if args.keep:
            print(scratch, file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    target = facts_path(args.version)
    target.write_text(dump(facts) + "\n", encoding="utf-8")
    if args.against:
        previous = json.loads(facts_path(args.against).read_text(encoding="utf-8"))
        print("\n".join(changes(previous, facts)) or f"no change since {args.against}")
    per_domain = ", ".join(f"{d} {n}" for d, n in facts["counts"]["per_domain"].items())
    print(f"{target.name}: {facts['counts']['operations']} operations ({per_domain})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
