"""Consents, authorization codes, access-token records and refresh-token families."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    RefreshToken,
    UsedAssertion,
    User,
)
from portico.storage.models.base import utcnow


class Consents:
    """What each user approved for each client."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def granted_scopes(self, user_id: str, client_id: str) -> set[str]:
        stmt = select(Consent.scopes).where(
            Consent.user_id == user_id, Consent.client_id == client_id
        )
        scopes = (await self.session.execute(stmt)).scalar_one_or_none()
        return set(scopes or [])

    async def grant(self, user_id: str, client_id: str, scopes: set[str]) -> None:
        """Remember approval, widening any earlier consent."""
        stmt = select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            self.session.add(Consent(user_id=user_id, client_id=client_id, scopes=sorted(scopes)))
        else:
            row.scopes = sorted(set(row.scopes) | scopes)
        await self.session.flush()


T = TypeVar("T")


@dataclass(frozen=True)
class Consumed(Generic[T]):
    """Result of a single-use consumption: the row, and whether this call won it."""

    row: T | None
    first_use: bool


class Codes:
    """Authorization codes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, code: AuthorizationCode) -> None:
        self.session.add(code)
        await self.session.flush()

    async def consume(
        self, code_hash: str, now: datetime | None = None
    ) -> Consumed[AuthorizationCode]:
        """Mark the code used, atomically; a second caller gets ``first_use=False``."""
        now = now or utcnow()
        stmt = (
            update(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
            .values(used_at=now)
            .returning(AuthorizationCode)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is not None:
            return Consumed(row, True)
        stmt2 = select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)
        return Consumed((await self.session.execute(stmt2)).scalar_one_or_none(), False)


class Tokens:
    """Access-token records and refresh-token families."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_access_token(self, token: AccessToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def access_token(self, jti: str) -> AccessToken | None:
        if not jti or len(jti) > 64:
            return None
        return await self.session.get(AccessToken, jti)

    async def access_token_in_full(
        self, jti: str
    ) -> tuple[AccessToken, User | None, Client | None] | None:
        """The record with its user and client in one statement: resource endpoints
        (UserInfo) need all three on every request, and each statement is a round trip."""
        if not jti or len(jti) > 64:
            return None
        stmt = (
            select(AccessToken, User, Client)
            .outerjoin(User, User.id == AccessToken.user_id)
            .outerjoin(Client, Client.id == AccessToken.client_id)
            .where(AccessToken.jti == jti)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def rotate_refresh_token(
        self, token_hash: str, now: datetime | None = None
    ) -> Consumed[RefreshToken]:
        """Consume a refresh token for rotation; a reused one reports ``first_use=False``."""
        now = now or utcnow()
        stmt = (
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=now)
            .returning(RefreshToken)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is not None:
            return Consumed(row, True)
        return Consumed(await self.refresh_token(token_hash), False)

    async def revoke_family(self, family_id: str) -> None:
        """Revoke every refresh and access token of a refresh family."""
        now = utcnow()
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self.session.execute(
            update(AccessToken)
            .where(AccessToken.family_id == family_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_issued_from_code(self, code_id: str) -> None:
        """A replayed code revokes everything its first redemption produced."""
        now = utcnow()
        families = select(RefreshToken.family_id).where(RefreshToken.code_id == code_id)
        await self.session.execute(
            update(RefreshToken)
            .where(or_(RefreshToken.code_id == code_id, RefreshToken.family_id.in_(families)))
            .where(RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self.session.execute(
            update(AccessToken)
            .where(or_(AccessToken.code_id == code_id, AccessToken.family_id.in_(families)))
            .where(AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_access_token(self, jti: str, client_id: str) -> bool:
        result = await self.session.execute(
            update(AccessToken)
            .where(
                AccessToken.jti == jti,
                AccessToken.client_id == client_id,
                AccessToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount)


class Assertions:
    """Seen client-assertion identifiers."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_use(self, jti_hash: str, client_id: str, expires_at: datetime) -> bool:
        """Record ``jti_hash``; False when it was already recorded (a replay)."""
        if await self.session.get(UsedAssertion, jti_hash) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(
                    UsedAssertion(jti_hash=jti_hash, client_id=client_id, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True
