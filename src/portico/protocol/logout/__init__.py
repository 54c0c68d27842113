"""The logout family: how signing out at Portico reaches every client of the session.

A browser session collects the clients it issued codes to (``session_clients``, written
at code issuance). When the session ends, whatever ended it (``/logout``,
``/end_session``, the account page, an admin disabling the person, a password reset),
the same transaction queues one back-channel notice per participating client that
registered a ``backchannel_logout_uri`` and revokes the session's online grants
(``storage.repositories.logout.SessionEnding``).

==========================  ===========================================================
module                      role
==========================  ===========================================================
``logout_token``            the Logout Token JWT (Back-Channel Logout 1.0 §2.4)
``backchannel``             sending queued notices: claim, sign, POST, record, back off
``worker``                  the per-process loop that sends notices as they are queued
                            and retries due ones; woken after the revoking commit
``frontchannel``            the iframes the signed-out page renders (Front-Channel
                            Logout 1.0 §3) and the ``frame-src`` they need
``..end_session``           RP-Initiated Logout 1.0: hints, confirmation, redirect
==========================  ===========================================================

Every instance runs a worker; a notice is claimed with a conditional UPDATE before it
is sent, so none is sent twice by two instances, and a notice whose sender died is
taken up again when its short lease runs out.
"""

from __future__ import annotations

from typing import Any


def metadata() -> dict[str, Any]:
    """OP metadata (Back-Channel Logout 1.0 §2.1, Front-Channel Logout 1.0 §3): both
    channels are implemented, with ``sid`` in ID tokens, logout tokens and iframe URLs."""
    return {
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
    }
