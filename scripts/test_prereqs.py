"""Make sure the tools the test suite drives are present before pytest starts.

Debian's chromium (for the Playwright browser tests in tests/browser/) is installed
with apt when it is missing and we are root; Playwright's own browser download
(`playwright install`) is never used. Node's packages (axe-core, openid-client) are
installed by the tests themselves into tests/.cache/node. Anything that cannot be had
is reported here; the tests that need it then fail under CI=true instead of being
silently skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def note(message: str) -> None:
    print(f"test_prereqs: {message}", file=sys.stderr)


def ensure_chromium() -> bool:
    """True when a `chromium` binary is on PATH (after installing it if we may)."""
    if shutil.which("chromium"):
        return True
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        note("chromium is not installed and cannot be installed here (needs root and apt-get);")
        note("  install it with: apt-get install -y --no-install-recommends chromium")
        return False
    note("installing Debian chromium for the browser tests (about 20 s)…")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    quiet = ["-qq", "-o", "Dpkg::Use-Pty=0"]
    update = subprocess.run(["apt-get", "update", *quiet], env=env, check=False)
    if update.returncode != 0:
        note(f"apt-get update failed (exit {update.returncode}); trying the install anyway")
    install = subprocess.run(
        ["apt-get", "install", "-y", *quiet, "--no-install-recommends", "chromium"],
        env=env,
        check=False,
    )
    if install.returncode != 0 or not shutil.which("chromium"):
        note(f"apt-get install chromium failed (exit {install.returncode})")
        return False
    return True


def main() -> None:
    if not ensure_chromium():
        ci = os.environ.get("CI", "").lower() == "true"
        note("browser tests will " + ("FAIL (CI=true)" if ci else "be skipped"))


if __name__ == "__main__":
    main()
