"""Make sure the tools the test suite drives are present before pytest starts.

Debian's chromium (for the Playwright browser tests) is installed with apt when it
is missing and we are root; Node's packages are installed by the tests themselves
into a cache folder. Anything that cannot be had is reported, and the tests that
need it fail under CI=true instead of being silently skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def ensure_chromium() -> None:
    if shutil.which("chromium"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("note: chromium is not installed; browser tests will be skipped", file=sys.stderr)
        return
    print("installing Debian chromium for the browser tests…", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=False,
        env=env,
    )


def main() -> None:
    ensure_chromium()


if __name__ == "__main__":
    main()
