"""Federation: signing people in through upstream identity providers.

An admin configures a provider (a row of ``identity_providers``) of some *kind*; the
kind registry (``kinds``) knows each kind's options, presets and quirks and opens a
``Connector`` for it. A sign-in is a round trip::

    /external-auth/{slug}/start ── flow.begin ──► upstream /authorize
          (state, nonce, PKCE verifier and where to go back persisted, 10 min)
    upstream ──► /external-auth/{slug}/callback ── flow.complete
          consume the flow once (conditional UPDATE) → code + PKCE at the token
          endpoint → ID token validated (JWKS, iss, aud, azp, exp, iat, nonce, at_hash)
          → claims mapped (``mapping``) → ``linking.resolve``: returning identity,
          just-in-time sign-up, or link by verified email → session (amr ``fed``)
          → back to the pending /authorize request (or /account)

Nothing here knows HTML or HTTP requests; ``api/external_auth.py`` and the pages
drive it. Opened connectors are cached per process by (provider id, version)
(``cache``), so the database decides which configuration is current.
"""
