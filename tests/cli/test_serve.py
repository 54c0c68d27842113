"""`portico serve` as operators run it: TLS from --certfile/--keyfile, several workers."""

from __future__ import annotations

import datetime
import ssl

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.conftest import start_server


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_serve_speaks_tls_with_the_given_certificate(tmp_path, sqlite_url):
    cert, key = self_signed(tmp_path)
    server = start_server(tmp_path, sqlite_url, serve_args=("--certfile", str(cert),
                                                            "--keyfile", str(key)),
                          scheme="https", PORTICO_INSECURE_COOKIES="false")
    try:
        context = ssl.create_default_context(cafile=str(cert))
        doc = httpx.get(f"{server.url}/.well-known/openid-configuration", verify=context).json()
        assert doc["issuer"] == server.url and doc["token_endpoint"].startswith("https://")
        login = httpx.get(f"{server.url}/login", verify=context)
        assert "Secure" in login.headers["set-cookie"]
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_serve_runs_several_workers_on_one_database(tmp_path, sqlite_url):
    server = start_server(tmp_path, sqlite_url, serve_args=("--workers", "2"))
    try:
        kids = {httpx.get(f"{server.url}/jwks").json()["keys"][0]["kid"] for _ in range(6)}
        assert len(kids) == 1
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_sigterm_lets_a_request_in_flight_finish(tmp_path, sqlite_url):
    """Hypercorn's graceful timeout comes from PORTICO_SHUTDOWN_GRACE: a slow request
    (a sign-in at a high bcrypt cost) that is running when SIGTERM arrives still gets
    its answer, and the server then exits cleanly within the grace period."""
    import threading
    import time

    server = start_server(tmp_path, sqlite_url, PORTICO_BCRYPT_ROUNDS="14",
                          PORTICO_SHUTDOWN_GRACE="20")
    answers: list[int] = []
    answered: list[float] = []

    def slow_login() -> None:
        wrong = {"username": "nobody", "password": "Wrong-password-1"}
        answers.append(httpx.post(f"{server.url}/api/v1/auth/login", json=wrong,
                                  timeout=30).status_code)
        answered.append(time.monotonic())

    try:
        in_flight = threading.Thread(target=slow_login)
        started = time.monotonic()
        in_flight.start()
        time.sleep(0.5)  # the request is now hashing (≈1 s per bcrypt at cost 14)
        signalled = time.monotonic()
        server.process.terminate()
        in_flight.join(30)
        assert answers == [401]
        assert server.process.wait(20) == 0
        assert time.monotonic() - started < 20
        # The request really was in flight when the signal came.
        assert answered and answered[0] > signalled
    finally:
        if server.process.poll() is None:
            server.process.kill()


def test_the_access_log_never_records_query_strings(tmp_path, sqlite_url):
    """Query strings carry codes, hints and the `?api_key=` credential (Hypercorn logs
    the path only; this guards that against a future log format)."""
    server = start_server(tmp_path, sqlite_url)
    try:
        httpx.get(f"{server.url}/api/v1/auth/me", params={"api_key": "pk_should-not-be-logged"})
        httpx.get(f"{server.url}/authorize", params={"code_challenge": "secret-looking-value"})
    finally:
        server.process.terminate()
        server.process.wait(10)
    log = server.log.read_text()
    assert "GET /api/v1/auth/me" in log
    assert "should-not-be-logged" not in log and "secret-looking-value" not in log


def test_the_access_log_masks_tokens_carried_in_paths(tmp_path, sqlite_url):
    """`/invite/<token>` carries its secret in the path, which Hypercorn does log."""
    token = "A" * 43
    server = start_server(tmp_path, sqlite_url)
    try:
        httpx.get(f"{server.url}/invite/{token}")
        httpx.get(f"{server.url}/.well-known/openid-configuration")
    finally:
        server.process.terminate()
        server.process.wait(10)
    log = server.log.read_text()
    assert "GET /invite/" in log and "openid-configuration" in log
    assert token not in log
