"""SQLAlchemy models, one module per aggregate. Import this package to register them all."""

from portico.storage.models.audit import AuditEvent
from portico.storage.models.base import Base
from portico.storage.models.clients import Client
from portico.storage.models.credentials import ApiKey, Lease, RecoveryKey
from portico.storage.models.federation import (
    FederatedIdentity,
    IdentityProvider,
    UpstreamLoginFlow,
)
from portico.storage.models.grants import (
    AccessToken,
    AuthorizationCode,
    Consent,
    RefreshToken,
    UsedAssertion,
)
from portico.storage.models.interactions import PendingAuthorization
from portico.storage.models.keys import SigningKey
from portico.storage.models.protocol_state import (
    DeviceAuthorization,
    DpopProof,
    InitialAccessToken,
    LogoutDelivery,
    PushedAuthorizationRequest,
    SessionClient,
)
from portico.storage.models.users import (
    InstanceSetting,
    Invite,
    Membership,
    Organization,
    Session,
    User,
)

__all__ = [
    "DeviceAuthorization",
    "DpopProof",
    "InitialAccessToken",
    "LogoutDelivery",
    "PushedAuthorizationRequest",
    "SessionClient",
    "AccessToken",
    "ApiKey",
    "Lease",
    "RecoveryKey",
    "AuditEvent",
    "AuthorizationCode",
    "Base",
    "Client",
    "InstanceSetting",
    "Invite",
    "Consent",
    "FederatedIdentity",
    "IdentityProvider",
    "UpstreamLoginFlow",
    "Membership",
    "Organization",
    "PendingAuthorization",
    "RefreshToken",
    "Session",
    "SigningKey",
    "UsedAssertion",
    "User",
]
