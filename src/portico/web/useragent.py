"""A person-readable name for the device behind a session, from its User-Agent.

Deliberately rough: enough to tell "Firefox on Windows" from "Safari on iOS" in a
session list, with no parsing library and no promise of accuracy (agents lie)."""

from __future__ import annotations

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "Python (httpx)"),
    ("python-requests/", "Python (requests)"),
    ("node", "Node.js"),
)
# iOS agents say "like Mac OS X" and Android ones "Linux": check them first.
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(agent: str | None) -> str:
    """E.g. ``Firefox on Linux``; ``Unknown device`` when nothing is recognised."""
    if not agent:
        return "Unknown device"
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"Browser on {system}" if system else "Unknown device")
