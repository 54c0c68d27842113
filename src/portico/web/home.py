"""/: who is signed in, and where to go next."""

from __future__ import annotations

from quart import Response

from portico.http import services
from portico.storage.repositories.users import Users
from portico.web.blueprint import bp, page
from portico.web.session_cookie import current_login


@bp.get("/")
async def home() -> Response:
    current = await current_login()
    async with services().db.session() as session:
        needs_setup = not await Users(session).admin_exists()
    return await page("home.html", user=current[1] if current else None, needs_setup=needs_setup)
