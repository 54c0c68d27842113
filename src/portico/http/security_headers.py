"""Headers every response carries: no framing, no sniffing, a strict CSP for pages.

The header values are built once at import; only a page that runs an inline script
(``g.csp_nonce``) gets its own CSP string. ``HEADERS`` is also what the published
documents' fast path (``portico.http.documents``) sends, so both agree."""

from __future__ import annotations

from quart import Response, g


def _csp(scripts: str, frames: str = "", images: str = "") -> str:
    return (f"default-src 'none'; style-src 'self'; img-src 'self' data:{images}; "
            f"script-src {scripts}; {frames}frame-ancestors 'none'; base-uri 'none'")


HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", _csp("'none'")),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


async def add_security_headers(response: Response) -> Response:
    """Anti-clickjacking (X-Frame-Options + CSP frame-ancestors), nosniff, referrer policy."""
    nonce, image_origin = g.get("csp_nonce"), g.get("csp_img_src")
    headers = response.headers
    for name, value in HEADERS:
        if name not in headers:
            if (nonce or image_origin) and name == "Content-Security-Policy":
                # The signed-out page alone frames others: front-channel logout iframes.
                frames = " ".join(g.get("csp_frame_src") or ())
                value = _csp(f"'nonce-{nonce}'" if nonce else "'none'",
                             f"frame-src {frames}; " if frames else "",
                             # The consent page shows the application's logo.
                             f" {image_origin}" if image_origin else "")
            headers[name] = value
    return response
