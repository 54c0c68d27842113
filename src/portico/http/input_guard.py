"""Refuse input no database can store: NUL characters (PostgreSQL rejects them in
text) and undecodable bytes, before any handler sees them."""

from __future__ import annotations

import json

from quart import request

from portico.errors import NotFound, ValidationFailed

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
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and ("\x00" in value or not value.isprintable()):
            # No row can have such an id or token: answer as for any unknown one.
            raise NotFound("Not Found: nothing exists at this address.")
    if bad is None and request.method == "POST" and request.mimetype in FORM_TYPES:
        bad = _bad(await request.form)
    if bad is not None:
        raise ValidationFailed("a parameter contains a NUL character", {bad: "not allowed"})
    if request.method in BODY_METHODS and request.is_json:
        await _check_json_body()


async def _check_json_body() -> None:
    """JSON must be UTF-8 (RFC 8259 §8.1) and its strings storable: no NUL (``\\u0000``)
    and no lone surrogate (``\\ud800``), which PostgreSQL cannot encode."""
    raw = await request.get_data(cache=True, as_text=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the body is not UTF-8", {"body": "not valid UTF-8"}) from None
    if "\\u" not in text and "\x00" not in text:
        return  # nothing escaped: the decoded strings are the UTF-8 text itself
    try:
        value = json.loads(text)
    except ValueError:
        return  # malformed JSON is the route's own 400
    try:
        again = json.dumps(value, ensure_ascii=False)
        again.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("the body contains a lone surrogate",
                               {"body": "not valid Unicode text"}) from None
    if "\\u0000" in again:
        raise ValidationFailed("the body contains a NUL character", {"body": "NUL not allowed"})
