"""The registry of provider kinds: name → options schema, presets and a factory.

Each kind lives in its own module and carries only its own quirks; it registers a
``Kind`` here. The registry feeds the admin API (``/provider-kinds``, validation of
options on save), the CLI and the login flow (``Kind.open``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from portico.errors import ValidationFailed
from portico.federation.base import Connector, ProviderConfig


class NoOptions(BaseModel):
    """A kind with nothing to configure beyond the common fields."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Kind:
    """One kind of upstream.

    ``issuer`` says what the provider's issuer field means for it: ``required``
    (OIDC discovery), ``optional`` (a base URL with a default, e.g. GitHub Enterprise),
    ``derived`` (computed from options, e.g. Entra's tenant) or ``unused``.
    """

    name: str
    title: str
    description: str
    factory: Callable[[ProviderConfig], Connector]
    options_model: type[BaseModel] = NoOptions
    issuer: str = "required"
    default_issuer: str | None = None
    default_scopes: tuple[str, ...] = ("openid", "email", "profile")
    default_mapping: Mapping[str, Any] = field(default_factory=dict)
    derive_issuer: Callable[[Mapping[str, Any]], str] | None = None

    def check_options(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate kind-specific options; a 400 naming each bad option."""
        try:
            model = self.options_model.model_validate(dict(options or {}))
        except ValidationError as exc:
            fields = {
                "options." + ".".join(str(p) for p in err["loc"]): err["msg"]
                for err in exc.errors()
            }
            raise ValidationFailed("invalid provider options", fields) from None
        return model.model_dump(exclude_none=True)

    def effective_issuer(self, issuer: str | None, options: Mapping[str, Any]) -> str | None:
        """The issuer this provider uses, after defaults and derivation."""
        if self.issuer == "derived" and self.derive_issuer is not None:
            derived = self.derive_issuer(options)
            if issuer and issuer.rstrip("/") != derived.rstrip("/"):
                raise ValidationFailed("invalid issuer", {
                    "issuer": f"the {self.title} issuer is derived from its options: {derived}"})
            return derived
        if self.issuer == "unused":
            return issuer or None
        return issuer or self.default_issuer

    def describe(self) -> dict[str, Any]:
        """Public description for ``GET /provider-kinds``."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "issuer": self.issuer,
            "default_issuer": self.default_issuer,
            "default_scopes": list(self.default_scopes),
            "default_mapping": dict(self.default_mapping),
            "options_schema": self.options_model.model_json_schema(),
        }


_KINDS: dict[str, Kind] = {}
_LOADED: list[bool] = []


def register(kind: Kind) -> Kind:
    """Add a kind (each kind module calls this once, at import)."""
    _KINDS[kind.name] = kind
    return kind


def _load() -> None:
    """Import every kind module once (importing one directly registers only that one)."""
    if not _LOADED:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _LOADED.append(True)


def all_kinds() -> list[Kind]:
    """Every registered kind, in a stable order."""
    _load()
    return sorted(_KINDS.values(), key=lambda k: k.name)


def kind_names() -> list[str]:
    return [k.name for k in all_kinds()]


def get_kind(name: str) -> Kind:
    """The kind called ``name``; a 400 naming ``kind`` when there is none."""
    _load()
    kind = _KINDS.get(name)
    if kind is None:
        raise ValidationFailed("unknown provider kind",
                               {"kind": "one of " + ", ".join(sorted(_KINDS))})
    return kind
