"""Async repositories with intent-named methods; the only code that builds SQL.

Every single-use consumption is one conditional ``UPDATE … WHERE used_at IS NULL
RETURNING``, so two concurrent callers can never both succeed.
"""
