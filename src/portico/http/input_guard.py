"""Refuse input no database can store: NUL characters (PostgreSQL rejects them in
text) and undecodable bytes, before any handler sees them."""

from __future__ import annotations

from quart import request

from portico.errors import ValidationFailed

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _bad(values: object) -> str | None:
    for name, value in values.items(multi=True):  # type: ignore[attr-defined]
        if "\x00" in name or "\x00" in value or "\ufffd" in name:
            return name.replace("\x00", "")[:64] or "?"
    return None


async def reject_unstorable_input() -> None:
    """A 400 in the surface's own error format, instead of a database error later."""
    bad = _bad(request.args)
    if bad is None and request.method == "POST" and request.mimetype in FORM_TYPES:
        bad = _bad(await request.form)
    if bad is not None:
        raise ValidationFailed("a parameter contains a NUL character", {bad: "not allowed"})
    if request.method in BODY_METHODS and request.is_json:
        await _check_json_body()


async def _check_json_body() -> None:
    """JSON must be UTF-8 (RFC 8259 §8.1) and may not smuggle NUL in as ``\\u0000``."""
    raw = await request.get_data(cache=True, as_text=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the body is not UTF-8", {"body": "not valid UTF-8"}) from None
    if "\x00" in text or "\\u0000" in text.lower():
        raise ValidationFailed("the body contains a NUL character", {"body": "NUL not allowed"})
