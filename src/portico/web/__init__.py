"""Hosted pages: login, consent, setup, logout and errors. Server-rendered, no
JavaScript needed, CSRF-protected. Pages call domain services and repositories;
they never build SQL."""
