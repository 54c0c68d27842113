"""A client with a back-channel logout endpoint (a real loopback listener) and alice
signed in to it, on every supported database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import on_database
from tests.protocol.conftest import RP
from tests.protocol.logout_support import Receiver, signed_in_rp

from portico.settings import Settings


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    return on_database(settings, keyed_database_url, backchannel_logout_timeout=1.0,
                             backchannel_logout_wait=3.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = found.serve()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
async def rp(app: Any, receiver: Receiver) -> RP:
    return await signed_in_rp(app, backchannel_logout_uri=receiver.backchannel_uri)
