"""The modules of ``oidcc-formpost-basic-certification-test-plan``: the Basic plan with
``response_mode=form_post`` (OAuth 2.0 Form Post Response Mode): every response,
success or error, arrives as an auto-submitted form to the redirect URI instead of a
query string.
"""

from __future__ import annotations

from conformance import basic, variants
from conformance.framework import Module

FORMPOST = "formpost"

MODULES: list[Module] = variants.modules(
    FORMPOST,
    [(m.name, m.run, m.note) for m in basic.MODULES if m.plan == basic.BASIC],
    "code",
    "form_post",
)
