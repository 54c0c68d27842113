"""Claim mapping: a small, declarative way to turn an upstream's claims into Portico's
attributes, with no code execution of any kind.

A mapping is a JSON object from a Portico attribute to a rule. A rule is either a
*path* string (``"email"``, ``"profile.emails.0.value"``: dots separate keys, digits
index lists) or an object with one of ``path`` (a string, or a list of keys for claim
names that contain dots such as URLs), ``template`` (``"{given_name} {family_name}"``:
each ``{path}`` is replaced by that claim's text; nothing else is interpreted) or
``value`` (a constant), and an optional ``default``. When ``template`` and ``path``
are both given the path is tried first. A rule that yields nothing yields its default.

The kind's preset mapping applies first; the provider's own mapping overrides it per
attribute (``null`` removes one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.errors import ValidationFailed

ATTRIBUTES = ("subject", "username", "email", "email_verified", "name", "given_name",
              "family_name", "picture", "locale")
PROFILE_ATTRIBUTES = ("given_name", "family_name", "picture", "locale")
MAX_RULE = 300
_PLACEHOLDER = re.compile(r"\{([^{}]{1,200})\}")
_MAX_VALUE = 500


def _validate_path(path: Any, where: str) -> list[str]:
    if isinstance(path, str):
        if not path or len(path) > MAX_RULE or any(c in path for c in "{}"):
            raise ValidationFailed("invalid claim mapping", {where: "a claim path such as email"})
        return path.split(".")
    if isinstance(path, list) and path and len(path) <= 10 and all(
            isinstance(p, str | int) and not isinstance(p, bool) and len(str(p)) <= MAX_RULE
            for p in path):
        return [str(p) for p in path]
    raise ValidationFailed("invalid claim mapping", {where: "a path string or a list of keys"})


def validate_mapping(mapping: Any) -> dict[str, Any]:
    """Check a mapping on save; a 400 naming each bad attribute."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ValidationFailed("invalid claim mapping", {"claim_mapping": "a JSON object"})
    for attr, rule in mapping.items():
        where = f"claim_mapping.{attr}"
        if attr not in ATTRIBUTES:
            raise ValidationFailed("invalid claim mapping",
                                   {where: "unknown attribute; one of " + ", ".join(ATTRIBUTES)})
        if rule is None:
            continue
        if isinstance(rule, str | list):
            _validate_path(rule, where)
            continue
        if not isinstance(rule, dict) or not rule.keys() <= {"path", "template", "value",
                                                             "default"}:
            raise ValidationFailed("invalid claim mapping", {
                where: "a path, or an object with path, template, value and default"})
        if not rule.keys() & {"path", "template", "value"}:
            raise ValidationFailed("invalid claim mapping",
                                   {where: "needs one of path, template or value"})
        if "path" in rule:
            _validate_path(rule["path"], where + ".path")
        template = rule.get("template")
        if template is not None:
            if not isinstance(template, str) or len(template) > MAX_RULE:
                raise ValidationFailed("invalid claim mapping",
                                       {where + ".template": "a string of at most 300 characters"})
            for name in _PLACEHOLDER.findall(template):
                _validate_path(name, where + ".template")
            if any(c in _PLACEHOLDER.sub("", template) for c in "{}"):
                raise ValidationFailed("invalid claim mapping", {
                    where + ".template": "braces only around a claim path, as in {email}"})
        for key in ("value", "default"):
            value = rule.get(key)
            if value is not None and not isinstance(value, str | bool | int):
                raise ValidationFailed("invalid claim mapping",
                                       {f"{where}.{key}": "a string, number or boolean"})
    return dict(mapping)


def merged(preset: Mapping[str, Any], own: Mapping[str, Any] | None) -> dict[str, Any]:
    """The preset overridden attribute by attribute (``None`` removes)."""
    result = dict(preset)
    for attr, rule in (own or {}).items():
        if rule is None:
            result.pop(attr, None)
        else:
            result[attr] = rule
    return result


def lookup(claims: Any, path: list[str]) -> Any:
    """The value at ``path``, or None; only dict keys and list indexes are followed."""
    node = claims
    for key in path:
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text[:_MAX_VALUE] or None


def _render(template: str, claims: Mapping[str, Any]) -> str | None:
    out = _PLACEHOLDER.sub(lambda m: _text(lookup(claims, m.group(1).split("."))) or "",
                           template)
    text = " ".join(out.split())
    return text or None


def _apply_rule(rule: Any, claims: Mapping[str, Any]) -> Any:
    if isinstance(rule, str | list):
        return lookup(claims, _validate_path(rule, "rule"))
    found: Any = None
    if "path" in rule:
        found = lookup(claims, _validate_path(rule["path"], "rule"))
    if found in (None, "") and rule.get("template"):
        found = _render(rule["template"], claims)
    if found in (None, "") and "value" in rule:
        found = rule["value"]
    if found in (None, ""):
        found = rule.get("default")
    return found


@dataclass(frozen=True)
class MappedAttributes:
    """What a mapping produced: the attributes Portico stores about the person."""

    subject: str | None
    username: str | None
    email: str | None
    email_verified: bool
    name: str | None
    profile: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "username": self.username, "email": self.email,
                "email_verified": self.email_verified, "name": self.name,
                "profile": dict(self.profile)}


def _verified(value: Any) -> bool:
    # Some providers send "true" as a string; anything else is not a verification.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def apply_mapping(mapping: Mapping[str, Any], claims: Mapping[str, Any]) -> MappedAttributes:
    """Apply a (validated, merged) mapping to a claims document."""
    values = {attr: _apply_rule(rule, claims) for attr, rule in mapping.items()
              if attr in ATTRIBUTES}
    profile = {a: t for a in PROFILE_ATTRIBUTES if (t := _text(values.get(a)))}
    subject = values.get("subject")
    return MappedAttributes(
        subject=_text(subject) if isinstance(subject, str | int) and not isinstance(
            subject, bool) else None,
        username=_text(values.get("username")),
        email=_text(values.get("email")),
        email_verified=_verified(values.get("email_verified")),
        name=_text(values.get("name")),
        profile=profile,
    )
