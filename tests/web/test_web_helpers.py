"""Small pure helpers of the hosted pages."""

from __future__ import annotations

import pytest

from portico.web.blueprint import local_path
from portico.web.useragent import describe_user_agent

CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_WIN, "Chrome on Windows"),
        (CHROME_WIN + " Edg/126.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15", "Safari on macOS"),
        ("curl/8.5.0", "curl"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "Browser on Linux"),
        ("", "Unknown device"),
        (None, "Unknown device"),
        ("something odd", "Unknown device"),
    ],
)
def test_describe_user_agent(agent, expected):
    assert describe_user_agent(agent) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account", "/account"),
        ("/account?done=name", "/account?done=name"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("account", None),
        ("/a b", None),
        ("/a\nb", None),
        ("", None),
        (None, None),
        ("/" + "a" * 2001, None),
    ],
)
def test_local_path(value, expected):
    assert local_path(value) == expected
