"""OAuth 2.0 Device Authorization Grant (RFC 8628): sign in on a TV, a console or a
command-line tool by approving it from a phone or computer.

One ``device_authorizations`` row carries the whole flow::

    device ──POST /device_authorization──► row: pending, device_code (hash), user_code
       │ shows user_code + verification_uri   (authlib_bridge/device.py, §3.1–3.2)
       │
    person ──/device (signed in)──► enter or confirm code ──► Allow | Deny
       │                              row: pending → approved | denied  (verification.py, §3.3)
       │
    device ──POST /token grant_type=…:device_code, every ``interval`` s
                                                  (authlib_bridge/device.py, §3.4–3.5)
          pending  → authorization_pending (too early: slow_down, interval += 5)
          denied   → access_denied;   expired → expired_token
          approved → tokens, once: row approved → issued (conditional UPDATE)
          issued   → invalid_grant

Expired rows are purged by the maintenance task. The endpoint and the grant subclass
authlib's RFC 8628 classes, so they live in the authlib bridge (the only place that
touches authlib's server); this package holds the rest: user codes (``user_code``) and
the person's decision (``verification``, called by the hosted page).
"""
