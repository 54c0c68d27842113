"""Cryptographic building blocks: sealing secrets at rest, random tokens, signing keys."""
