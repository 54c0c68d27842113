"""OAuth 2.0 and OpenID Connect: endpoints, checks and tokens.

No HTML and no SQL here: protocol code talks to repositories and crypto, and hands
a person over to the hosted pages through ``authorize.interaction``.
"""
