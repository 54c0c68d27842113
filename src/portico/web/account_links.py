"""/account/links: the upstream providers a signed-in person can sign in with.

Linking is a round trip to the provider started here (a CSRF-checked POST) and
finished by the external-auth callback, which checks the same person is still signed
in. Unlinking never removes someone's last way to sign in.
"""

from __future__ import annotations

from quart import Response, redirect, request

from portico.errors import Conflict, NotFound
from portico.federation.base import UpstreamError
from portico.federation.flow import Trip, begin
from portico.federation.identities import list_links, unlink
from portico.federation.providers import enabled_providers, public_view
from portico.http import services
from portico.storage.models import User
from portico.web.account import account_page, signed_in, to_login
from portico.web.blueprint import bp
from portico.web.csrf import verify_csrf

DONE = {"linked": "The provider was linked. You can now sign in with it.",
        "unlinked": "The provider was unlinked."}


async def _links_page(user: User, status: int = 200, error: str | None = None) -> Response:
    svc = services()
    links = await list_links(svc.db, user.id)
    linked = {link.provider_slug for link in links}
    available = [public_view(r) for r in await enabled_providers(svc.db)
                 if r.slug not in linked]
    return await account_page("account/links.html", "links", user, status=status,
                              links=links, available=available, error=error,
                              done=DONE.get(request.args.get("done", "")),
                              has_password=user.password_hash is not None)


@bp.get("/account/links")
async def account_links() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    return await _links_page(current[1])


@bp.post("/account/links/start")
async def account_link_start() -> Response:
    """Send the browser to the provider to prove the person holds that account too."""
    from portico.api.external_auth import browser_binding, flow_context, set_browser_binding

    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    slug = (await request.form).get("provider", "")[:64]
    binding, fresh = browser_binding()
    trip = Trip(binding=binding, purpose="link", link_user_id=current[1].id,
                return_to="/account/links")
    try:
        url = await begin(flow_context(), slug, trip)
    except (UpstreamError, NotFound) as exc:
        return await _links_page(current[1], status=502 if isinstance(exc, UpstreamError)
                                 else 404, error=exc.message)
    response = redirect(url, 303)
    if fresh:
        set_browser_binding(response, binding)
    return response


@bp.post("/account/links/unlink")
async def account_link_remove() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    identity_id = (await request.form).get("identity_id", "")[:64]
    try:
        await unlink(services().db, current[1], identity_id, ip=request.remote_addr)
    except Conflict as exc:
        return await _links_page(current[1], status=409, error=exc.message)
    return redirect("/account/links?done=unlinked", 303)
