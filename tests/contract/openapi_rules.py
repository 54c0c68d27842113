"""What the OpenAPI document of ``/api/v1`` must say, as functions that list the
operations breaking each rule, and the document-wide gaps still owed by code outside
this suite.

Per-route rules are strict: a new route that breaks one fails the suite, naming it.
Document-wide gaps (``KNOWN_GAPS``) are things a route cannot fix with quart-schema's
decorators; each has a strict-xfail test, so the suite fails when one is fixed and the
entry here must go. ``as_intended`` patches exactly those gaps into a copy of the
document, so fuzzing checks the API against the document it should have.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/api/v1/"
DOC_PATH = "/api/v1/openapi.json"
PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch")
PATH_RE = re.compile("<(?:[^:<>]*:)?([^<>]+)>")

# Each True entry is a gap in the document that no route can close itself, with what
# closes it. Set one to False once its fix lands (its xfail test then turns strict).
KNOWN_GAPS: dict[str, bool] = {
    # quart-schema documents every response as application/json; the API answers
    # errors as application/problem+json. Fix: an OpenAPI provider (api/openapi.py).
    "problem_json": False,
    # quart-schema never says whether a requestBody is "required" (OpenAPI's default is
    # false), yet a route that validates its body answers a missing one with 400.
    "request_body_required": False,
    # quart-schema cannot document a body-less 204 (document_response needs a model),
    # so logout and the DELETE routes document no success response at all.
    "no_content": False,
    # Hosted pages and protocol endpoints are listed too, with "responses": {}, which
    # makes the whole document invalid OpenAPI 3.1. Fix: the provider keeps /api/ only.
    "api_only": False,
    # Request and response models are inlined, not $ref'd components: generators make a
    # class per operation and status, and openapi-python-client drops the typed error
    # responses (the inline Problem collides with itself). Fix: the provider hoists models.
    "inline_models": False,
    # 405 answers drop werkzeug's Allow header (app.py's HTTPException handler).
    "allow_header": False,
}


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def error_statuses(self) -> list[str]:
        return [s for s in self.spec.get("responses", {}) if s[:1] in ("4", "5")]

    @property
    def success_statuses(self) -> list[str]:
        return [s for s in self.spec.get("responses", {}) if s.startswith("2")]


def api_operations(doc: dict[str, Any]) -> list[Operation]:
    """Every operation of the document under ``/api/v1/``."""
    return [Operation(method.upper(), path, spec)
            for path, item in sorted(doc.get("paths", {}).items())
            if path.startswith(API_PREFIX)
            for method, spec in item.items() if method in METHODS]


def url_map_routes(app: Any) -> set[str]:
    """``METHOD /path/{param}`` for every /api/v1 route of a Quart app (as documented);
    browser-only hops marked with quart-schema's ``@hide`` are left out on purpose."""
    from quart_schema.extension import QUART_SCHEMA_HIDDEN_ATTRIBUTE

    routes: set[str] = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX) or rule.rule == DOC_PATH or rule.websocket:
            continue
        if getattr(app.view_functions[rule.endpoint], QUART_SCHEMA_HIDDEN_ATTRIBUTE, False):
            continue
        path = PATH_RE.sub(r"{\1}", rule.rule)
        routes |= {f"{m} {path}" for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return routes


def documented_routes(doc: dict[str, Any]) -> set[str]:
    return {op.label for op in api_operations(doc)}


# --- per-route rules ------------------------------------------------------------------


def _schema_of(doc: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    schema = media.get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]
    return schema  # type: ignore[no-any-return]


def missing_summary(doc: dict[str, Any]) -> list[str]:
    return [op.label for op in api_operations(doc) if not op.spec.get("summary", "").strip()]


def security_undefined(doc: dict[str, Any]) -> list[str]:
    """Operations naming a security scheme that ``components.securitySchemes`` lacks."""
    defined = set(doc.get("components", {}).get("securitySchemes", {}))
    return [f"{op.label}: {name!r}" for op in api_operations(doc)
            for requirement in op.spec.get("security", []) for name in requirement
            if name not in defined]


def secured_without_401(doc: dict[str, Any]) -> list[str]:
    return [op.label for op in api_operations(doc)
            if op.spec.get("security") and "401" not in op.spec["responses"]]


def input_without_400(doc: dict[str, Any]) -> list[str]:
    """Operations that take a body or query parameters but document no 400."""
    return [op.label for op in api_operations(doc)
            if (op.spec.get("requestBody")
                or any(p.get("in") == "query" for p in op.spec.get("parameters", [])))
            and "400" not in op.spec["responses"]]


def errors_not_problem_shaped(doc: dict[str, Any]) -> list[str]:
    """Error responses whose schema is not RFC 9457 problem details."""
    bad = []
    for op in api_operations(doc):
        for status in op.error_statuses:
            for media in op.spec["responses"][status].get("content", {}).values():
                schema = _schema_of(doc, media)
                props = set(schema.get("properties", {}))
                if not {"type", "title", "status"} <= props:
                    bad.append(f"{op.label} {status}")
    return bad


def duplicate_operation_ids(doc: dict[str, Any]) -> list[str]:
    seen: dict[str, str] = {}
    dupes = []
    for op in api_operations(doc):
        op_id = op.spec.get("operationId", "")
        if not op_id or op_id in seen:
            dupes.append(f"{op.label} ({op_id!r}, also {seen.get(op_id)})")
        seen[op_id] = op.label
    return dupes


# --- document-wide gaps -----------------------------------------------------------------


def errors_not_problem_json(doc: dict[str, Any]) -> list[str]:
    return [f"{op.label} {status}" for op in api_operations(doc) for status in op.error_statuses
            if set(op.spec["responses"][status].get("content", {})) != {PROBLEM_JSON}]


def bodies_silent_on_required(doc: dict[str, Any]) -> list[str]:
    return [op.label for op in api_operations(doc)
            if op.spec.get("requestBody") and "required" not in op.spec["requestBody"]]


def without_success(doc: dict[str, Any]) -> list[str]:
    return [op.label for op in api_operations(doc) if not op.success_statuses]


def foreign_paths(doc: dict[str, Any]) -> list[str]:
    return [path for path in doc.get("paths", {}) if not path.startswith(API_PREFIX)]


def api_only(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with only its /api/v1 paths."""
    trimmed = copy.deepcopy(doc)
    trimmed["paths"] = {p: v for p, v in trimmed.get("paths", {}).items()
                        if p.startswith(API_PREFIX)}
    return trimmed


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for item in doc["paths"].values():
        yield from ((method, spec) for method, spec in item.items() if method in METHODS)


def as_intended(doc: dict[str, Any]) -> dict[str, Any]:
    """The /api/v1 document with the known gaps patched as their fixes will patch them.
    (Whether a body is required is left unsaid: only the route knows.)"""
    fixed = api_only(doc)
    for method, spec in _operations(fixed):
        responses = spec.setdefault("responses", {})
        if KNOWN_GAPS["problem_json"]:
            for status, response in responses.items():
                content = response.get("content", {})
                if status[:1] in ("4", "5") and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
        # The body-less success of a DELETE (or of logout) is a 204.
        if (KNOWN_GAPS["no_content"] and method in ("delete", "post")
                and not any(s.startswith("2") for s in responses)):
            responses["204"] = {"description": "Done; no content."}
    return fixed
