"""A person at a web browser, for end-to-end tests against a real Portico server.

One ``Browser`` is one cookie jar. ``sign_in`` opens a URL (usually an authorization
URL a relying-party library built), follows Portico's own redirects, fills in the hosted
login and consent pages when they appear, and stops at the first answer that leaves
Portico: the redirect to the client's ``redirect_uri`` (never followed) or a page that
is not a login/consent step (a ``form_post`` page, an error page, a logged-out page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

USERNAME = "alice"
EMAIL = "alice@example.org"
PASSWORD = "Correct-horse-1"


@dataclass
class Form:
    """One HTML form: where it posts and its named, valued controls."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and a.get("name"):
            self._open.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[Form]:
    """Every form on a page, in document order."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def params_of(url: str) -> dict[str, str]:
    """Query (or, failing that, fragment) parameters of ``url``, one value each."""
    parts = urlsplit(url)
    return {k: v[0] for k, v in parse_qs(parts.query or parts.fragment).items()}


class Browser:
    """Drives Portico's hosted pages with httpx, keeping cookies like a browser."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.http = httpx.Client(follow_redirects=False, timeout=15)
        self.pages: list[str] = []  # the Portico paths shown to the person, in order

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _is_portico(self, url: str) -> bool:
        return url == self.issuer or url.startswith(self.issuer + "/")

    def sign_in(
        self,
        url: str,
        username: str = USERNAME,
        password: str = PASSWORD,
        *,
        decision: str = "approve",
        max_steps: int = 12,
    ) -> httpx.Response:
        """Open ``url`` and do whatever Portico asks until it answers the client."""
        response = self.http.get(url)
        for _ in range(max_steps):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if not self._is_portico(target):
                    return response
                response = self.http.get(target)
                continue
            path = response.url.path
            if response.status_code == 200 and path == "/login":
                self.pages.append(path)
                response = self._submit(response, "username", username=username, password=password)
            elif response.status_code == 200 and path == "/consent":
                self.pages.append(path)
                response = self._submit(response, "ticket", decision=decision)
            else:
                return response
        raise AssertionError(f"more than {max_steps} steps, last at {response.url}")

    def visit(self, url: str) -> httpx.Response:
        """Open ``url`` and follow Portico's redirects, but sign in to nothing."""
        response = self.http.get(url)
        for _ in range(12):
            if not response.is_redirect:
                return response
            target = urljoin(str(response.url), response.headers["location"])
            if not self._is_portico(target):
                return response
            response = self.http.get(target)
        raise AssertionError(f"redirect loop at {response.url}")

    def _submit(self, page: httpx.Response, needs: str, **values: str) -> httpx.Response:
        candidates = [f for f in forms_of(page.text) if f.method == "post" and needs in f.fields]
        assert candidates, f"no form with {needs!r} on {page.url}:\n{page.text[:2000]}"
        form = candidates[-1]
        assert "csrf_token" in form.fields, f"the form on {page.url} has no CSRF token"
        data = {**form.fields, **values}
        return self.http.post(urljoin(str(page.url), form.action), data=data)


def callback_of(response: httpx.Response) -> str:
    """The absolute URL Portico sent the browser to (a redirect it did not follow)."""
    assert response.is_redirect, (
        f"expected a redirect to the client, got {response.status_code} at {response.url}:\n"
        f"{response.text[:2000]}"
    )
    return urljoin(str(response.url), response.headers["location"])
