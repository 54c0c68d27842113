"""Registering response types (OIDC Registration §2): code by default, the others by
name, normalised; anything else is refused naming the field."""

from __future__ import annotations

import pytest
from tests.helpers import add_client, services_of

from portico.errors import ValidationFailed


async def test_code_is_the_default_and_others_are_normalised(app):
    svc = services_of(app)
    assert (await add_client(svc)).client.response_types == ["code"]
    reg = await add_client(svc, metadata={"response_types": ["token id_token", "code",
                                                             "id_token token"]})
    assert reg.client.response_types == ["id_token token", "code"]


async def test_unknown_response_types_are_refused(app):
    with pytest.raises(ValidationFailed) as caught:
        await add_client(services_of(app), metadata={"response_types": ["token"]})
    assert "response_types" in caught.value.fields


def test_the_cli_registers_response_types(live_server, tmp_path):
    import json
    import sqlite3

    out = live_server.cli("client", "add", "--name", "SPA", "--redirect-uri",
                          "https://rp.example/cb", "--response-type", "code id_token",
                          "--response-type", "code", "--json")
    client_id = json.loads(out.stdout)["client_id"]
    with sqlite3.connect(tmp_path / "portico.db") as db:
        (stored,) = db.execute(
            "SELECT response_types FROM clients WHERE id = ?", (client_id,)).fetchone()
    assert json.loads(stored) == ["code id_token", "code"]
