"""A throwaway PostgreSQL server that speaks TLS (issue 18), as a township's server is to be set up.

Built on :mod:`tests.pg_server`: the same server from the distribution's packages, started with
``ssl=on`` and a certificate made here with ``cryptography`` — a private certificate authority
(``ca.crt``, what a PC is given as ``sslrootcert``) and the server's certificate, issued by it
for :data:`HOST` (and ``localhost``, ``127.0.0.1``). A second, unrelated authority
(``wrong-ca.crt``) is what a PC holding the wrong file would check against.

:data:`HOST` is not in any DNS: a URL names it as the host and ``hostaddr=127.0.0.1`` as the
address, so libpq connects to this computer and checks the certificate against the name — what a
PC does with a real server's name.

Its ``pg_hba.conf`` is a server's for TLS only: over TCP, ``hostssl`` with SCRAM passwords, and
``hostnossl … reject``, so a connection without TLS is refused by the server itself, whatever the
program on the PC would allow. The fixtures' own work (creating and dropping databases, the role)
goes through the server's Unix socket (``local … trust``), never over TCP. With ``plain=True``
(the bench, :mod:`bench.bench_tls`) TCP without TLS is let in too, so both are measured against
one server.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from psycopg import sql

from tests.pg_server import SUPERUSER, Server, ServerUnavailable, start_server

HOST = "govshare-db.test"  # the name on the server's certificate (RFC 2606: never a real host)
ROLE = "govshare_tls"  # signs in with a password (SCRAM), over TLS only
PASSWORD = "Tls-Test-Only-2026"

HBA_TLS_ONLY = """\
local     all all                trust
hostssl   all all 127.0.0.1/32   scram-sha-256
hostssl   all all ::1/128        scram-sha-256
hostnossl all all 0.0.0.0/0      reject
hostnossl all all ::/0           reject
"""
HBA_EITHER = """\
local     all all                trust
host      all all 127.0.0.1/32   scram-sha-256
host      all all ::1/128        scram-sha-256
"""


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the authority that issued the server's certificate: a PC's sslrootcert
    wrong_ca: Path  # an authority that did not
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _server_certificate(
    host: str, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    names: list[x509.GeneralName] = [
        x509.DNSName(host),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_certificates(folder: Path, host: str = HOST) -> Certificates:
    """A private authority, a server certificate it issued for ``host``, and an unrelated
    authority, written into ``folder`` (the server's key readable by its owner alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _authority("govshare test CA")
    key, certificate = _server_certificate(host, ca_key, ca)
    _, wrong = _authority("govshare test CA")  # the same name, another key: not the issuer
    files = Certificates(
        ca=folder / "ca.crt",
        wrong_ca=folder / "wrong-ca.crt",
        cert=folder / "server.crt",
        key=folder / "server.key",
    )
    files.ca.write_bytes(_pem(ca))
    files.wrong_ca.write_bytes(_pem(wrong))
    files.cert.write_bytes(_pem(certificate))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)  # PostgreSQL refuses a key others may read
    return files


class Tap:
    """A TCP relay on 127.0.0.1 to ``port`` that keeps a copy of every byte it passes, both
    ways: what anyone on the network between a PC and the server would see."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._seen = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def seen(self) -> bytes:
        with self._lock:
            return bytes(self._seen)

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                with self._lock:
                    self._seen += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


@dataclass
class TlsServer:
    """The server, its certificates, and URLs for :data:`ROLE` over TLS."""

    server: Server
    files: Certificates
    plain: bool  # whether TCP without TLS is let in (the bench only)

    @property
    def port(self) -> int:
        return self.server.port

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """The superuser, through the server's Unix socket (never over TCP)."""
        return psycopg.connect(
            host=str(self.server.directory),
            port=self.port,
            user=SUPERUSER,
            dbname=database,
            autocommit=True,
        )

    def url(
        self,
        database: str,
        *,
        sslmode: str | None = "verify-full",
        ca: Path | None = None,
        host: str = HOST,
        hostaddr: str | None = "127.0.0.1",
        port: int | None = None,
        user: str = ROLE,
        password: str = PASSWORD,
    ) -> str:
        """A program's URL for ``database`` as ``user`` (by default :data:`ROLE`): by default
        ``verify-full`` against the right authority, to :data:`HOST` at ``127.0.0.1``;
        ``port``: another (a :class:`Tap`'s)."""
        query = {}
        if hostaddr:
            query["hostaddr"] = hostaddr
        if sslmode:
            query["sslmode"] = sslmode
        if sslmode in ("verify-ca", "verify-full") or ca is not None:
            query["sslrootcert"] = str(ca or self.files.ca)
        tail = "&".join(f"{k}={quote(v, safe='/')}" for k, v in query.items())
        where = f"{user}:{quote(password)}@{host}:{port or self.port}/{database}"
        return f"postgresql+psycopg://{where}" + (f"?{tail}" if tail else "")

    def create_database(self, name: str) -> str:
        """A new, empty database that :data:`ROLE` owns."""
        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(ROLE)
                )
            )
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def new_name(self, prefix: str = "tls") -> str:
        return self.server.new_name(prefix)

    def stop(self) -> None:
        self.server.stop()


def _when_ready(server: TlsServer, within: float = 60.0) -> psycopg.Connection:
    """The superuser's connection once the server accepts it. The executor returns as soon as
    the TCP port listens, which may be before the Unix socket is there or while the server is
    still starting up (seen on a busy computer)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return server.connect()
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_tls_server(*, plain: bool = False, options: str = "") -> TlsServer:
    """A server with ``ssl=on`` and its own certificates; TCP without TLS refused by its
    ``pg_hba.conf`` unless ``plain``. ``options``: more ``-c`` settings (the bench's)."""
    made: list[Certificates] = []

    def prepare(directory: Path) -> str:
        files = make_certificates(directory / "tls")
        made.append(files)
        hba = directory / "tls" / "pg_hba.conf"
        hba.write_text(HBA_EITHER if plain else HBA_TLS_ONLY)
        return (
            f"-c ssl=on -c ssl_cert_file={files.cert} -c ssl_key_file={files.key} "
            f"-c ssl_min_protocol_version=TLSv1.2 -c hba_file={hba} {options}"
        ).strip()

    server = start_server(prepare)
    tls = TlsServer(server, made[0], plain)
    try:
        with _when_ready(tls) as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(PASSWORD)
                )
            )
    except Exception as exc:
        log = server.directory / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.is_file() else "(no log)"
        tls.stop()
        raise ServerUnavailable(
            f"the TLS server started but could not be set up: {exc}\n{tail}"
        ) from exc
    return tls


@pytest.fixture(scope="session")
def pg_tls_server() -> Iterator[TlsServer]:
    """A throwaway PostgreSQL server for the session that accepts TCP only over TLS. It never
    skips: a server that cannot start fails the test, saying why."""
    try:
        server = start_tls_server()
    except ServerUnavailable as exc:
        pytest.fail(f"PostgreSQL with TLS is needed and could not be started: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_tls_db(pg_tls_server: TlsServer) -> Iterator[str]:
    """A new, empty database on the TLS server that :data:`ROLE` owns (dropped afterwards): its
    name; :meth:`TlsServer.url` makes the URLs."""
    name = pg_tls_server.create_database(pg_tls_server.new_name())
    yield name
    pg_tls_server.drop_database(name)
