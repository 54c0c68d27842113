"""``/api/v1/admin``: the admin API (SPEC §4). One blueprint; one module per resource.

Every route requires the admin role (``common.admin``), which resolves the caller
through the shared credential resolver and yields the ``OrgScope`` the repositories
filter by. Rows outside the scope answer 404 (an id from another organization is
indistinguishable from one that does not exist); naming an organization the caller
does not administer in a filter or body answers 403. Every mutation is audited in the
same transaction as the change.
"""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import tag_blueprint

bp = Blueprint("api_admin", __name__, url_prefix="/api/v1/admin")
tag_blueprint(bp, ["admin"])


@bp.after_request
async def _no_store(response: Response) -> Response:
    """Admin answers carry personal data and, once, secrets: never cache them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def load_routes() -> Blueprint:
    """Import every resource module (each adds its routes to ``bp``); ``*schemas``
    modules hold bodies only."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name != "common" and not module.name.endswith("schemas"):
            importlib.import_module(f"{__name__}.{module.name}")
    return bp
