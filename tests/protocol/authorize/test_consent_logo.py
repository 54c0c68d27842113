"""The consent page shows an application's https logo, and its CSP lets images come
from that origin only (web/consent.py, http/security_headers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.helpers import add_client, services_of


async def consent_page(rp: Any, logo_uri: str) -> tuple[str, str]:
    reg = await add_client(services_of(rp.app), name="Logo app",
                           metadata={"extra_metadata": {"logo_uri": logo_uri}})
    response = await rp.browser.authorize(**rp.params(client_id=reg.client.id))
    page = await rp.browser.client.get(response.headers["Location"])
    assert page.status_code == 200
    return await page.get_data(as_text=True), page.headers["Content-Security-Policy"]


async def test_an_https_logo_is_shown_and_only_its_origin_allowed(rp: Any) -> None:
    html, csp = await consent_page(rp, "https://cdn.logo.example:8443/app.png")
    assert '<img class="client-logo" src="https://cdn.logo.example:8443/app.png"' in html
    assert "img-src 'self' data: https://cdn.logo.example:8443;" in csp
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp


@pytest.mark.parametrize("logo_uri", [
    "https://user:pw@logo.example/app.png",   # credentials
    "https://127.0.0.1/app.png",              # not a DNS name
    "https://logo.example:99999/app.png",     # no such port
])
async def test_other_logos_are_not_shown_and_the_csp_stays_closed(
    rp: Any, logo_uri: str
) -> None:
    html, csp = await consent_page(rp, logo_uri)
    assert "client-logo" not in html
    assert "img-src 'self' data:;" in csp
