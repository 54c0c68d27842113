"""The OpenAPI document served at /api/v1/openapi.json by a real server: valid
OpenAPI 3.1, complete (every /api/v1 route of the URL map), and saying what each
operation needs and answers: a summary, a security requirement where a credential is
needed (checked by calling it without one), 401 and 400 where they can happen, and
errors as RFC 9457 problem details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from tests.conftest import make_settings
from tests.contract import openapi_rules as rules
from tests.contract.conftest import ContractServer
from tests.contract.openapi_rules import KNOWN_GAPS


def spec_errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message.splitlines()[0][:200]}"
            for e in OpenAPIV31SpecValidator(doc).iter_errors()]


def none(violations: list[str], what: str = "violations") -> None:
    """Fail listing every violation, one a line."""
    assert not violations, f"{len(violations)} {what}:\n  " + "\n  ".join(violations)


def gap(name: str, reason: str) -> pytest.MarkDecorator:
    """Expected to fail while ``KNOWN_GAPS[name]``; fails the suite once it passes."""
    return pytest.mark.xfail(KNOWN_GAPS[name], reason=reason, strict=True)


def test_the_api_part_is_valid_openapi_3_1(openapi_doc):
    assert openapi_doc["openapi"].startswith("3.1.")
    assert rules.api_operations(openapi_doc), "no /api/v1 operation at all"
    none(spec_errors(rules.api_only(openapi_doc)))


def test_the_validator_rejects_a_broken_document(openapi_doc):
    broken = rules.api_only(openapi_doc)
    broken["paths"] = {"/api/v1/auth/login": broken["paths"]["/api/v1/auth/login"]}
    login = broken["paths"]["/api/v1/auth/login"]["post"]
    login["responses"]["200"].pop("description")
    login["security"] = "everyone"
    assert len(spec_errors(broken)) >= 2


def test_every_api_route_of_the_url_map_is_documented(openapi_doc, tmp_path: Path):
    from portico.app import create_app

    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", tmp_path))
    routes = rules.url_map_routes(app)
    assert any(r.split(" ")[1].startswith("/api/v1/auth/") for r in routes)
    documented = rules.documented_routes(openapi_doc)
    none(sorted(routes - documented), "routes missing from the document")
    none(sorted(documented - routes), "documented operations with no route")


def test_the_document_describes_the_instance(openapi_doc, contract_server: ContractServer):
    info = openapi_doc["info"]
    assert info["title"] and info["version"] and info.get("description")
    assert openapi_doc["servers"][0]["url"] == contract_server.url
    described = {t["name"] for t in openapi_doc.get("tags", []) if t.get("description")}
    used = {t for op in rules.api_operations(openapi_doc) for t in op.spec.get("tags", [])}
    none(sorted(used - described), "tags without a description")
    assert {"bearer", "session"} <= set(openapi_doc["components"]["securitySchemes"])


def test_every_operation_has_a_summary(openapi_doc):
    none(rules.missing_summary(openapi_doc))


def test_operation_ids_are_unique(openapi_doc):
    # Client generators name their functions after them.
    none(rules.duplicate_operation_ids(openapi_doc))


def test_security_requirements_name_defined_schemes(openapi_doc):
    none(rules.security_undefined(openapi_doc))


def test_secured_operations_document_401(openapi_doc):
    none(rules.secured_without_401(openapi_doc))


def test_operations_with_input_document_400(openapi_doc):
    none(rules.input_without_400(openapi_doc))


def test_error_responses_are_problem_details(openapi_doc):
    none(rules.errors_not_problem_shaped(openapi_doc))


def _probe(client: httpx.Client, op: rules.Operation) -> httpx.Response:
    """Call ``op`` with no credential: path parameters made up, an empty JSON body."""
    path = op.path
    for param in op.spec.get("parameters", []):
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", "contract-probe")
    body = {"json": {}} if op.spec.get("requestBody") else {}
    return client.request(op.method, path, **body)


def test_what_needs_a_credential_says_so(openapi_doc, contract_server: ContractServer):
    """Without a credential, a secured operation answers 401 (a problem with
    WWW-Authenticate) and an operation answering 401 declares security and 401."""
    wrong: list[str] = []
    with contract_server.http() as client:
        for op in rules.api_operations(openapi_doc):
            response = _probe(client, op)
            status, secured = response.status_code, bool(op.spec.get("security"))
            if status == 401 and not secured:
                wrong.append(f"{op.label}: answers 401 but declares no security")
            if status == 401 and "401" not in op.spec["responses"]:
                wrong.append(f"{op.label}: answers 401 but does not document it")
            if status == 401 and "WWW-Authenticate" not in response.headers:
                wrong.append(f"{op.label}: 401 without WWW-Authenticate (RFC 9110 §11.6.1)")
            if secured and status != 401 and not (status == 400 and "requestBody" in op.spec):
                wrong.append(f"{op.label}: declares security but answered {status} without it")
            if status >= 400:
                wrong += [f"{op.label}: {e}" for e in problem_errors(response)]
    none(wrong)


def problem_errors(response: httpx.Response) -> list[str]:
    """How an error answer falls short of RFC 9457 (empty when it does not)."""
    if response.headers.get("content-type", "").split(";")[0] != rules.PROBLEM_JSON:
        return [f"{response.status_code} is {response.headers.get('content-type')!r}"]
    body = response.json()
    missing = [k for k in ("type", "title", "status") if k not in body]
    if missing or body["status"] != response.status_code:
        return [f"{response.status_code} problem body {body!r}"]
    return []


# --- gaps that no route can close itself (see KNOWN_GAPS) --------------------------------


@gap("api_only", "the document also lists hosted pages and protocol endpoints")
def test_the_document_lists_only_the_api(openapi_doc):
    none(rules.foreign_paths(openapi_doc))


@gap("api_only", "the hosted pages are listed with empty responses, which 3.1 forbids")
def test_the_whole_document_is_valid_openapi_3_1(openapi_doc):
    none(spec_errors(openapi_doc))


@gap("problem_json", "quart-schema documents every response as application/json")
def test_errors_are_documented_as_problem_json(openapi_doc):
    none(rules.errors_not_problem_json(openapi_doc))


@gap("request_body_required", "quart-schema does not say whether a body is required")
def test_request_bodies_say_whether_they_are_required(openapi_doc):
    none(rules.bodies_silent_on_required(openapi_doc))


@gap("no_content", "quart-schema cannot document a 204 without a body model")
def test_every_operation_documents_its_success(openapi_doc):
    none(rules.without_success(openapi_doc))


@gap("allow_header", "the HTTPException handler drops werkzeug's Allow header")
def test_405_names_the_allowed_methods(contract_server: ContractServer):
    with contract_server.http() as client:
        response = client.request("PUT", "/api/v1/auth/login")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")
