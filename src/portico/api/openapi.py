"""The OpenAPI document of ``/api/v1``: quart-schema's provider, adjusted to what the
API really answers.

* Only ``/api/`` routes: hosted pages and protocol endpoints have their own specs
  (OpenID Connect, RFC 6749…) and no response models, which made the document invalid.
* Errors are documented as ``application/problem+json`` (RFC 9457), as they are sent.
* Models become shared components (``$ref``), so generated clients get one class per
  model, including the typed ``Problem``.
* A request body is ``required`` when its model has required fields (a missing body
  is a 400).
* A DELETE or POST without a success model answers 204 with no content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing.rules import Rule

PROBLEM_JSON = "application/problem+json"
NO_CONTENT = {"description": "Done; no content."}


class ApiDocument(OpenAPIProvider):
    """quart-schema's document generator with the adjustments above."""

    def generate_rules(self) -> Iterable[Rule]:
        return (rule for rule in super().generate_rules() if rule.rule.startswith("/api/"))

    def build_paths(self, rule: Rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        for item in paths.values():
            for method, operation in item.items():
                self._adjust(method, operation, components)
        return paths, components

    @staticmethod
    def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
        """A titled object schema moves to components and is referenced."""
        title = schema.get("title")
        if not title or schema.get("type") != "object":
            return schema
        components.setdefault(title, schema)
        return {"$ref": f"#/components/schemas/{title}"}

    @staticmethod
    def _summarise(operation: dict[str, Any]) -> None:
        """quart-schema cuts the summary at the docstring's first line break, mid-sentence:
        make it the first sentence and keep the whole text as the description."""
        text = " ".join(
            " ".join(str(operation.get(k, "")).split()) for k in ("summary", "description"))
        text = text.strip().replace("``", "`")
        if not text:
            return
        end = text.find(". ")
        operation["summary"] = (text if end < 0 else text[:end + 1])[:200]
        operation["description"] = text

    def _adjust(self, method: str, operation: dict[str, Any],
                components: dict[str, Any]) -> None:
        self._summarise(operation)
        responses = operation["responses"]
        for status, response in responses.items():
            content = response.get("content", {})
            if "application/json" in content:
                media = content["application/json"]
                media["schema"] = self._hoist(media["schema"], components)
                if int(status) >= 400:
                    content[PROBLEM_JSON] = content.pop("application/json")
        body = operation.get("requestBody")
        if body is not None:
            schemas = [media["schema"] for media in body["content"].values()]
            body["required"] = any(schema.get("required") for schema in schemas)
            for media in body["content"].values():
                media["schema"] = self._hoist(media["schema"], components)
        if method in ("delete", "post") and not any(
                str(s).startswith("2") for s in responses):
            responses[204] = dict(NO_CONTENT)
