"""Portico's own runner of the OpenID Foundation conformance checks.

It re-implements, over real HTTP, the assertions of the OIDF conformance suite's
``oidcc-basic-certification-test-plan`` and ``oidcc-config-certification-test-plan``
(static clients, ``response_type=code``, discovery metadata), signing in on the
hosted pages the way a person would. Run it with ``python -m conformance --help``.

The official suite stays the reference: ``conformance/plans/*.json`` and
``conformance/README.md`` explain how to run it against a deployment.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
