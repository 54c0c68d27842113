"""Each kind's own quirks: GitHub's verified primary email (against a GitHub-shaped
server on loopback), the generic OAuth 2.0 kind, Google's hosted domain, Entra's
tenant-aware issuer, GitLab's nickname, and the options each kind accepts."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from tests.federation.fake_github import FakeGitHub, fake_github
from tests.federation.support import add_provider
from tests.helpers import services_of

from portico.errors import ValidationFailed
from portico.federation.base import ProviderConfig, UpstreamError
from portico.federation.kinds import get_kind
from portico.federation.kinds.microsoft import MicrosoftConnector
from portico.federation.mapping import apply_mapping
from portico.storage.models import FederatedIdentity, User


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with fake_github() as gh:
        yield gh


async def _trip(app, slug: str, code: str = "good-code"):
    client = app.test_client()
    begun = await client.get(f"/api/v1/external-auth/{slug}/start")
    assert begun.status_code == 302, await begun.get_data(as_text=True)
    sent = {k: v[0] for k, v in parse_qs(urlsplit(begun.headers["Location"]).query).items()}
    answer = await client.get(f"/api/v1/external-auth/{slug}/callback?code={code}"
                              f"&state={sent['state']}")
    return begun.headers["Location"], answer


async def test_github_uses_the_verified_primary_address_and_the_numeric_id(app, github):
    github.verified = True
    await add_provider(app, {"slug": "gh", "display_name": "GitHub", "kind": "github",
                             "issuer": github.url, "client_id": "Iv1.abc",
                             "client_secret": "gh-secret", "allow_signup": True})
    url, answer = await _trip(app, "gh")
    assert url.startswith(f"{github.url}/login/oauth/authorize?")
    assert "scope=read%3Auser+user%3Aemail" in url and "code_challenge=" in url
    assert answer.status_code == 303, await answer.get_data(as_text=True)
    async with services_of(app).db.session() as s:
        user = await s.scalar(select(User))
        identity = await s.scalar(select(FederatedIdentity))
    assert user.email == "octo@gh.example" and user.email_verified and user.username == "octo"
    assert identity.subject == "4242"
    assert github.token_forms[-1]["code_verifier"]


async def test_an_unverified_github_primary_address_does_not_count_as_verified(app, github):
    github.verified = False
    await add_provider(app, {"slug": "gh", "kind": "github", "issuer": github.url,
                             "client_id": "Iv1.abc", "client_secret": "gh-secret",
                             "allow_signup": True})
    _, answer = await _trip(app, "gh")
    assert answer.status_code == 303
    async with services_of(app).db.session() as s:
        assert (await s.scalar(select(User))).email_verified is False
    github.verified = True


async def test_a_refused_code_is_a_token_error(app, github):
    await add_provider(app, {"slug": "gh", "kind": "github", "issuer": github.url,
                             "client_id": "Iv1.abc", "client_secret": "gh-secret",
                             "allow_signup": True})
    _, answer = await _trip(app, "gh", code="stale")
    assert answer.status_code == 400
    assert "refused to complete the sign-in" in await answer.get_data(as_text=True)


async def test_the_generic_oauth2_kind_reads_the_userinfo_url_with_claim_paths(app, github):
    await add_provider(app, {
        "slug": "plain", "kind": "oauth2", "client_id": "c", "client_secret": "s",
        "allow_signup": True, "scopes": ["user"],
        "options": {"authorization_endpoint": f"{github.url}/login/oauth/authorize",
                    "token_endpoint": f"{github.url}/login/oauth/access_token",
                    "userinfo_endpoint": f"{github.url}/api/v3/user",
                    "token_endpoint_auth_method": "client_secret_post"},
        "claim_mapping": {"username": {"template": "gh-{login}"}}})
    _, answer = await _trip(app, "plain")
    assert answer.status_code == 303, await answer.get_data(as_text=True)
    async with services_of(app).db.session() as s:
        user = await s.scalar(select(User))
    # The public profile email is not verified: the account is created, unverified.
    assert user.username == "gh-octo" and user.email == "public@elsewhere.example"
    assert not user.email_verified
    assert github.token_forms[-1]["client_secret"] == "s"


def _config(kind: str, **options) -> ProviderConfig:
    k = get_kind(kind)
    return ProviderConfig(id="x", slug="x", display_name="X", kind=kind, version=1,
                          issuer=k.effective_issuer(None, options), options=options,
                          client_id="cid", client_secret=None, scopes=k.default_scopes)


def test_microsoft_derives_its_issuer_and_checks_the_tenant_of_each_token():
    kind = get_kind("microsoft")
    assert kind.effective_issuer(None, {"tenant": "contoso"}) == \
        "https://login.microsoftonline.com/contoso/v2.0"
    with pytest.raises(ValidationFailed):
        kind.effective_issuer("https://login.microsoftonline.com/other/v2.0",
                              {"tenant": "contoso"})
    connector = MicrosoftConnector(_config("microsoft", tenant="common"))
    metadata = {"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}
    assert connector.issuer_matches(metadata["issuer"])
    tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
    connector.check_id_claims(
        {"tid": tid, "iss": f"https://login.microsoftonline.com/{tid}/v2.0"}, metadata)
    with pytest.raises(UpstreamError):
        connector.check_id_claims(
            {"tid": tid, "iss": "https://login.microsoftonline.com/evil/v2.0"}, metadata)
    mapped = apply_mapping(kind.default_mapping, {"oid": "o1", "tid": tid, "sub": "pairwise",
                                                  "email": "a@b.example",
                                                  "email_verified": True})
    assert mapped.subject == f"o1@{tid}" and mapped.email_verified is False


def test_google_requires_the_hosted_domain_claim_when_configured():
    from portico.federation.kinds.google import GoogleConnector

    connector = GoogleConnector(_config("google", hosted_domain="corp.example"))
    assert connector.issuer == "https://accounts.google.com"
    assert connector.authorize_extras() == {"hd": "corp.example"}
    connector.check_id_claims({"hd": "corp.example"}, {})
    with pytest.raises(UpstreamError):
        connector.check_id_claims({"email": "me@gmail.com"}, {})


def test_gitlab_takes_the_username_from_nickname():
    kind = get_kind("gitlab")
    assert kind.effective_issuer(None, {}) == "https://gitlab.com"
    mapped = apply_mapping(kind.default_mapping, {"sub": "7", "nickname": "gl-user",
                                                  "preferred_username": "other"})
    assert mapped.username == "gl-user"


def test_kind_options_are_validated():
    with pytest.raises(ValidationFailed) as err:
        get_kind("microsoft").check_options({"tenant": "bad tenant!"})
    assert "options.tenant" in err.value.fields
    with pytest.raises(ValidationFailed):
        get_kind("oauth2").check_options({"authorization_endpoint": "not a url"})
    with pytest.raises(ValidationFailed):
        get_kind("nope")
