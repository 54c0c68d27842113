"""A person with a browser, as far as the protocol can tell: one cookie jar, GETs and
form POSTs, following the OP's own redirects and stopping at the first one that
leaves the OP (the client's redirect_uri needs no real server: its Location is read).

On the hosted pages it fills in the login form (``username``/``password`` with the
hidden ``csrf_token`` and ``ticket``) and answers the consent form. Every page it
met is recorded, so a module can assert "a login page was shown" or "none was".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

MAX_STEPS = 20


@dataclass
class Form:
    """One HTML form: where it goes and what it would send."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    has_password: bool = False


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._current)
            return
        if self._current is None:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "password":
                self._current.has_password = True
            if kind == "submit" and a.get("name"):
                self._current.buttons.append((a["name"], a.get("value", "")))
            elif a.get("name"):
                self._current.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def parse_forms(html: str) -> list[Form]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class Outcome:
    """Where the browser ended up after an authorization request.

    ``kind`` is ``redirect`` (a 302/303 leaving the OP: ``location``, ``params``),
    ``form_post`` (a page auto-posting ``params`` to ``location``), or ``page``
    (the OP answered with a page of its own: an error page, typically).
    """

    kind: str
    status: int
    location: str = ""
    params: dict[str, str] = field(default_factory=dict)
    repeated: list[str] = field(default_factory=list)
    in_fragment: bool = False
    html: str = ""
    pages: list[str] = field(default_factory=list)

    @property
    def login_shown(self) -> bool:
        return "login" in self.pages

    @property
    def consent_shown(self) -> bool:
        return "consent" in self.pages

    def describe(self) -> str:
        if self.kind == "page":
            return f"the OP showed a page (HTTP {self.status}): {page_text(self.html)[:160]!r}"
        return f"{self.kind} to {self.location} with {sorted(self.params)}"


def page_text(html: str) -> str:
    """The visible text of a page, squeezed (for error messages)."""

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in ("script", "style", "head"):
                self._skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style", "head") and self._skip:
                self._skip -= 1

        def handle_data(self, data: str) -> None:
            if not self._skip and data.strip():
                self.parts.append(data.strip())

    parser = _Text()
    with contextlib.suppress(Exception):
        parser.feed(html)
    return " ".join(parser.parts)


class LoginFailed(Exception):
    """The OP did not accept the test user's credentials."""


class Browser:
    """One user agent with its own cookie jar."""

    def __init__(
        self,
        issuer: str,
        username: str,
        password: str,
        *,
        verify: bool | str = True,
        timeout: float = 20.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.username = username
        self.password = password
        self.http = httpx.Client(
            follow_redirects=False,
            timeout=timeout,
            verify=verify,
            headers={"User-Agent": "portico-conformance/1 (httpx)", "Accept": "text/html"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_op(self, url: str) -> bool:
        return url == self.issuer or url.startswith(self.issuer + "/")

    def authorize(
        self,
        endpoint: str,
        params: dict[str, str],
        *,
        method: str = "GET",
        consent: str = "approve",
        login: bool = True,
    ) -> Outcome:
        """Send an authorization request and act like a person until the OP lets go."""
        if method == "POST":
            response = self.http.post(endpoint, data=params)
        else:
            response = self.http.get(endpoint, params=params)
        return self._drive(response, consent=consent, login=login)

    def _drive(self, response: httpx.Response, *, consent: str, login: bool) -> Outcome:
        pages: list[str] = []
        for _ in range(MAX_STEPS):
            if response.status_code in (301, 302, 303, 307, 308):
                location = urljoin(str(response.url), response.headers.get("location", ""))
                if not self._on_op(location):
                    return _redirect_outcome(response.status_code, location, pages)
                response = self.http.get(location)
                continue
            html = response.text if "html" in response.headers.get("content-type", "") else ""
            forms = parse_forms(html) if html else []
            login_form = next((f for f in forms if f.has_password), None)
            if response.status_code == 200 and login_form is not None:
                pages.append("login")
                if not login:
                    return Outcome("page", response.status_code, html=html, pages=pages)
                if pages.count("login") > 3:
                    raise LoginFailed(f"the login page keeps coming back: {page_text(html)[:200]}")
                data = dict(login_form.fields)
                data.update(username=self.username, password=self.password)
                response = self.http.post(urljoin(str(response.url), login_form.action), data=data)
                continue
            consent_form = next(
                (f for f in forms if any(n == "decision" for n, _ in f.buttons)), None
            )
            if response.status_code == 200 and consent_form is not None:
                pages.append("consent")
                data = dict(consent_form.fields)
                data["decision"] = consent
                response = self.http.post(
                    urljoin(str(response.url), consent_form.action), data=data
                )
                continue
            post_form = next(
                (
                    f
                    for f in forms
                    if f.method == "post"
                    and f.action
                    and not self._on_op(urljoin(str(response.url), f.action))
                ),
                None,
            )
            if response.status_code == 200 and post_form is not None:
                return Outcome(
                    "form_post",
                    response.status_code,
                    location=urljoin(str(response.url), post_form.action),
                    params=dict(post_form.fields),
                    html=html,
                    pages=pages,
                )
            return Outcome("page", response.status_code, html=html or response.text, pages=pages)
        raise RuntimeError("too many steps on the OP's pages")


def _redirect_outcome(status: int, location: str, pages: list[str]) -> Outcome:
    parts = urlsplit(location)
    in_fragment = bool(parts.fragment) and not parts.query
    raw = parts.fragment if in_fragment else parts.query
    items = parse_qsl(raw, keep_blank_values=True)
    params: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in items:
        if name in params:
            repeated.append(name)
        params.setdefault(name, value)
    return Outcome(
        "redirect",
        status,
        location=location,
        params=params,
        repeated=repeated,
        in_fragment=in_fragment,
        pages=pages,
    )
