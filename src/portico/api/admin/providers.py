"""``/api/v1/admin/external-auth``: upstream identity providers.

Any admin may read the configuration (never the secret) and preview claim mappings.
Creating, changing, deleting and testing providers is for the superadmin: a provider
decides who may sign in to every organization (and can link accounts by email), and
a test makes this server fetch URLs the caller chose.
"""

from __future__ import annotations

from quart import Response
from quart_schema import (
    document_response,
    validate_querystring,
    validate_request,
    validate_response,
)
from sqlalchemy.ext.asyncio import AsyncSession

from portico.api.admin import bp
from portico.api.admin.common import (
    PageQuery,
    admin,
    caller,
    client_ip,
    decode_cursor,
    encode_cursor,
    signed_in,
)
from portico.api.admin.providers_schemas import (
    CheckOut,
    KindList,
    KindOut,
    MappedOut,
    MappingPreviewIn,
    MappingPreviewOut,
    NewProvider,
    ProviderFields,
    ProviderOut,
    ProviderPage,
    TestReport,
)
from portico.api.schemas import Problem
from portico.audit.recorder import record
from portico.errors import NotFound, ValidationFailed
from portico.federation.base import Check
from portico.federation.flow import CALLBACK_PATH
from portico.federation.kinds import all_kinds, get_kind
from portico.federation.mapping import apply_mapping, merged, validate_mapping
from portico.federation.probe import run_probe
from portico.federation.providers import (
    admin_view,
    check_provider,
    create_provider,
    delete_provider,
    provider_config,
    unsaved_config,
    update_provider,
)
from portico.http import services
from portico.orgs.access import require_superadmin
from portico.storage.models import IdentityProvider
from portico.storage.repositories.federation import Providers

PREFIX = "/external-auth"


def _out(row: IdentityProvider) -> ProviderOut:
    return ProviderOut.model_validate(admin_view(row))


async def _load(provider_id: str) -> IdentityProvider:
    async def read(session: AsyncSession) -> IdentityProvider | None:
        return await Providers(session).get(provider_id)

    row = await services().db.run(read)
    if row is None:
        raise NotFound("No such provider.")
    return row


def _report(checks: list[Check]) -> TestReport:
    return TestReport(ok=all(c.ok is not False for c in checks),
                      checks=[CheckOut.of(c) for c in checks])


async def _audit_test(target: str, report: TestReport) -> None:
    failed = [c.name for c in report.checks if c.ok is False]

    async def write(session: AsyncSession) -> None:
        await record(session, "provider.tested", outcome="success" if report.ok else "failure",
                     actor_id=caller().user.id, ip=client_ip(), target=target,
                     failed_checks=failed, via="api")

    await services().db.run(write)


@bp.get(PREFIX + "/provider-kinds")
@signed_in
@admin()
@validate_response(KindList)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def provider_kinds() -> KindList:
    """Every kind of upstream Portico can federate to: its options schema, presets
    (issuer, scopes, claim mapping) and what its issuer field means."""
    return KindList(items=[KindOut.model_validate(k.describe()) for k in all_kinds()])


@bp.get(PREFIX + "/providers")
@signed_in
@admin()
@validate_querystring(PageQuery)
@validate_response(ProviderPage)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def provider_list(query_args: PageQuery) -> ProviderPage:
    """Configured providers by slug, ``limit`` at a time."""
    limit = query_args.page_size()
    after = decode_cursor(query_args.cursor, 2)
    start = (str(after[0]), str(after[1])) if after else None

    async def read(session: AsyncSession) -> list[IdentityProvider]:
        return await Providers(session).page(limit + 1, start)

    rows = await services().db.run(read)
    page = rows[:limit]
    cursor = encode_cursor(page[-1].slug, page[-1].id) if len(rows) > limit else None
    return ProviderPage(items=[_out(r) for r in page], next_cursor=cursor)


@bp.post(PREFIX + "/providers")
@signed_in
@admin(write=True)
@validate_request(NewProvider)
@validate_response(ProviderOut, 201)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 409)
@document_response(Problem, 401)
async def provider_create(data: NewProvider) -> tuple[ProviderOut, int]:
    """Superadmin only. Add a provider; the client secret is stored sealed and never
    shown again."""
    require_superadmin(caller().user)
    svc = services()
    row = await create_provider(svc.db, svc.box, data.values(), actor_id=caller().user.id,
                                ip=client_ip())
    return _out(row), 201


@bp.get(PREFIX + "/providers/<provider_id>")
@signed_in
@admin()
@validate_response(ProviderOut)
@document_response(Problem, 404)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def provider_get(provider_id: str) -> ProviderOut:
    """One provider (``has_client_secret`` instead of the secret)."""
    return _out(await _load(provider_id))


@bp.patch(PREFIX + "/providers/<provider_id>")
@signed_in
@admin(write=True)
@validate_request(ProviderFields)
@validate_response(ProviderOut)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@document_response(Problem, 401)
async def provider_update(provider_id: str, data: ProviderFields) -> ProviderOut:
    """Superadmin only. Change some fields (``client_secret: null`` removes the secret);
    ``version`` goes up and every instance uses the new configuration at once."""
    require_superadmin(caller().user)
    svc = services()
    row = await update_provider(svc.db, svc.box, provider_id, data.values(),
                                actor_id=caller().user.id, ip=client_ip())
    return _out(row)


@bp.delete(PREFIX + "/providers/<provider_id>")
@signed_in
@admin(write=True)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 401)
async def provider_delete(provider_id: str) -> Response:
    """Superadmin only. Remove a provider and its links (people keep their accounts;
    those who had no other way in need an administrator's password reset)."""
    require_superadmin(caller().user)
    await delete_provider(services().db, provider_id, actor_id=caller().user.id,
                          ip=client_ip())
    return Response(status=204)


@bp.post(PREFIX + "/providers/test")
@signed_in
@admin(write=True)
@validate_request(NewProvider)
@validate_response(TestReport)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 401)
async def provider_test_unsaved(data: NewProvider) -> TestReport:
    """Superadmin only. Test a configuration before saving it: discovery, issuer,
    JWKS, algorithms, endpoints and, where the upstream allows, client credentials."""
    require_superadmin(caller().user)
    svc = services()
    checked = check_provider(data.values())
    connector = checked.kind.factory(unsaved_config(checked, svc.settings.upstream_timeout))
    redirect = svc.settings.issuer + CALLBACK_PATH.format(slug=checked.values["slug"])
    report = _report(await run_probe(connector, redirect))
    await _audit_test(f"provider:{checked.values['slug']}", report)
    return report


@bp.post(PREFIX + "/providers/<provider_id>/test")
@signed_in
@admin(write=True)
@validate_response(TestReport)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 401)
async def provider_test(provider_id: str) -> TestReport:
    """Superadmin only. Test a saved provider (the same checks as an unsaved one)."""
    require_superadmin(caller().user)
    svc = services()
    row = await _load(provider_id)
    config = provider_config(row, svc.box, svc.settings.upstream_timeout)
    connector = get_kind(row.kind).factory(config)
    redirect = svc.settings.issuer + CALLBACK_PATH.format(slug=row.slug)
    report = _report(await run_probe(connector, redirect))
    await _audit_test(f"provider:{row.id}", report)
    return report


@bp.post(PREFIX + "/providers/<provider_id>/mapping/preview")
@signed_in
@admin()
@validate_request(MappingPreviewIn)
@validate_response(MappingPreviewOut)
@document_response(Problem, 400)
@document_response(Problem, 404)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def mapping_preview(provider_id: str, data: MappingPreviewIn) -> MappingPreviewOut:
    """Apply the provider's claim mapping (or ``claim_mapping``, unsaved) to a sample
    claims document and show the attributes Portico would store."""
    row = await _load(provider_id)
    own = validate_mapping(data.claim_mapping) if data.claim_mapping is not None \
        else row.claim_mapping
    mapping = merged(get_kind(row.kind).default_mapping, own)
    if "subject" not in mapping:
        raise ValidationFailed("invalid claim mapping",
                               {"claim_mapping.subject": "required: the upstream's stable id"})
    attributes = apply_mapping(mapping, data.claims)
    return MappingPreviewOut(attributes=MappedOut.model_validate(attributes.as_dict()),
                             mapping=mapping)
