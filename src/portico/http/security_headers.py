"""Headers every response carries: no framing, no sniffing, a strict CSP for pages."""

from __future__ import annotations

from quart import Response, g


async def add_security_headers(response: Response) -> Response:
    """Anti-clickjacking (X-Frame-Options + CSP frame-ancestors), nosniff, referrer policy."""
    nonce = getattr(g, "csp_nonce", None)
    scripts = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'none'; style-src 'self'; img-src 'self' data:; script-src {scripts}; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response
