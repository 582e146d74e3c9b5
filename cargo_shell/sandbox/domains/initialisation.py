"""``GET /v1/initWorkspace``: everything the app loads at start, in one answer.

Each section is answered by the sandbox's own route for it (the same handler, workspace and
caller), so it has exactly the shape of ``<domain> <resource> list``. A list whose route this
sandbox does not serve is answered as an empty list; ``MISSING`` in the tests names those.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cargo_shell.sandbox.http import JsonResponse, Request, Router, StreamResponse

#: section → the requests that fill it: (method, path, JSON body, key of the answer). Several
#: sources are concatenated; a section answered by one object (subscription, user, workspace) has one.
SECTIONS: dict[str, tuple[tuple[str, str, dict[str, Any] | None, str], ...]] = {
    "agents": (("GET", "/v1/ai/agents/list", None, "agents"),),
    "alerts": (("GET", "/v1/observability/alerts/list", None, "alerts"),),
    "apps": (("POST", "/v1/hosting/apps/list", {}, "apps"),),
    "capacities": (("GET", "/v1/revenueOrganization/capacities/list", None, "capacities"),),
    "connectors": (("GET", "/v1/connection/connectors/list", None, "connectors"),),
    "datasets": (("GET", "/v1/storage/datasets/list", None, "datasets"),),
    "files": (("GET", "/v1/content/files/list", None, "files"),),
    "folders": (("GET", "/v1/workspaceManagement/folders/list", None, "folders"),),
    "mcpServers": (("GET", "/v1/ai/mcpServers/list", None, "mcpServers"),),
    "members": (("GET", "/v1/revenueOrganization/members/list", None, "members"),),
    "models": (("GET", "/v1/storage/models/list", None, "models"),),
    "plays": (("GET", "/v1/orchestration/plays/list", None, "plays"),),
    "presetTemplates": (
        ("POST", "/v1/ai/templates/list", {"isPreset": True}, "templates"),
        ("POST", "/v1/orchestration/templates/list", {"isPreset": True}, "templates"),
    ),
    "relationships": (("GET", "/v1/storage/relationships/list", None, "relationships"),),
    "roles": (("GET", "/v1/workspaceManagement/roles/list", None, "roles"),),
    "segments": (("GET", "/v1/segmentation/segments/list", None, "segments"),),
    "subscription": (("GET", "/v1/billing/subscriptions", None, "subscription"),),
    "systemOfRecords": (("GET", "/v1/systemOfRecordIntegration/systemOfRecords", None, "systemOfRecords"),),
    "territories": (("GET", "/v1/revenueOrganization/territories/list", None, "territories"),),
    "tokens": (("GET", "/v1/workspaceManagement/tokens/list", None, "tokens"),),
    "tools": (("GET", "/v1/orchestration/tools/list", None, "tools"),),
    "user": (("GET", "/v1/workspaceManagement/users/current", None, "user"),),
    "users": (("GET", "/v1/workspaceManagement/users/list", None, "users"),),
    "workers": (("POST", "/v1/hosting/workers/list", {}, "workers"),),
    "workflows": (("GET", "/v1/orchestration/workflows/list", None, "workflows"),),
    "workspace": (("GET", "/v1/workspaceManagement/workspaces/current", None, "workspace"),),
}
#: Sections answered by one object: their route must exist.
OBJECTS = ("subscription", "user", "workspace")


def register(router: Router) -> None:
    def answer(request: Request, method: str, path: str, body: dict[str, Any] | None, key: str) -> Any:
        matched = router.match(method, path)
        if matched is None:
            return None
        route, params = matched
        inner = replace(request, method=method, path=path, path_params=params, query={}, json=body, files={})
        result = route.handler(inner)
        if isinstance(result, StreamResponse):
            raise TypeError(f"{method} {path} streams: it cannot fill initWorkspace")
        data = result.obj if isinstance(result, JsonResponse) else result
        return data[key]

    def initialisation(request: Request) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for section, sources in SECTIONS.items():
            answers = [answer(request, *source) for source in sources]
            if section in OBJECTS:
                (out[section],) = answers
                if out[section] is None:
                    raise LookupError(f"initWorkspace: no route answers {section}")
            else:
                out[section] = [item for found in answers if found is not None for item in found]
        return out

    router.route("GET", "/v1/initWorkspace")(initialisation)
