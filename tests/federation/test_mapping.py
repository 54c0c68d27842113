"""Claim mapping: paths, list indexes, templates, constants and defaults, presets
overridden per attribute, validation on save, and no way to reach beyond the data."""

from __future__ import annotations

import pytest

from portico.errors import ValidationFailed
from portico.federation.mapping import apply_mapping, merged, validate_mapping

CLAIMS = {
    "sub": "abc", "email": "A@Example.org", "email_verified": True,
    "given_name": "Ada", "family_name": "Lovelace",
    "emails": [{"value": "first@x.example"}, {"value": "second@x.example"}],
    "https://ns.example/login": "ada",
}


def test_paths_indexes_templates_constants_and_defaults():
    mapped = apply_mapping({
        "subject": "sub",
        "email": "emails.1.value",
        "username": {"path": ["https://ns.example/login"]},
        "name": {"template": "{given_name}  {family_name} {missing}"},
        "email_verified": {"value": True},
        "locale": {"path": "locale", "default": "en"},
    }, CLAIMS)
    assert mapped.as_dict() == {
        "subject": "abc", "username": "ada", "email": "second@x.example",
        "email_verified": True, "name": "Ada Lovelace", "profile": {"locale": "en"}}


def test_a_template_cannot_reach_attributes_or_format_specs():
    mapped = apply_mapping({"subject": "sub",
                            "name": {"template": "{sub.__class__}{sub!r}{0}", "default": "x"}},
                           CLAIMS)
    assert mapped.name == "x"


def test_the_provider_overrides_the_preset_per_attribute():
    preset = {"subject": "sub", "username": "preferred_username", "name": "name"}
    assert merged(preset, {"username": "login", "name": None}) == {
        "subject": "sub", "username": "login"}


@pytest.mark.parametrize("bad", [
    [], {"unknown": "x"}, {"name": {"python": "1+1"}}, {"name": {}},
    {"name": {"template": "{}"}}, {"name": {"path": ""}}, {"name": {"value": {"a": 1}}},
    {"name": "{email}"}, {"name": {"path": [True]}},
])
def test_bad_mappings_are_refused_on_save(bad):
    with pytest.raises(ValidationFailed):
        validate_mapping(bad)


def test_only_a_true_email_verified_counts():
    for value, expected in ((True, True), ("true", True), ("yes", False), (1, False),
                            (None, False)):
        mapped = apply_mapping({"subject": "sub", "email_verified": "v"}, {"sub": "s",
                                                                          "v": value})
        assert mapped.email_verified is expected
