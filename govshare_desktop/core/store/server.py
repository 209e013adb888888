"""A township's database on a PostgreSQL server (office mode, issue 18): which URLs are servers,
which driver opens them, and the one rule for the network — encrypted (TLS) unless the server is
this computer.

A ``postgresql://`` URL (``--db``, ``GOVSHARE_DB``) is opened with psycopg 3. Its password is best
kept out of the URL, in libpq's password file (``~/.pgpass``, ``%APPDATA%\\postgresql\\pgpass.conf``),
which psycopg reads. Every address that libpq may connect to is checked, not only the URL's host:
``hostaddr`` (which libpq connects to instead of the host), a ``host`` parameter, and, where the
URL names none, ``PGHOST``/``PGHOSTADDR`` from the environment; a ``service`` (pg_service.conf)
could name any host, so it counts as remote. Only the loopback addresses, ``localhost`` and Unix
sockets may go without ``sslmode=require``, ``verify-ca`` or ``verify-full``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping

from sqlalchemy.engine import URL, make_url

from govshare_desktop.core.errors import UserError

SERVER_BACKENDS = ("postgresql",)
DRIVER = "psycopg"
TLS_MODES = ("require", "verify-ca", "verify-full")


class InsecureServer(UserError):
    """A server reached over the network without TLS: refused before connecting."""


def is_server_url(url: str) -> bool:
    """Whether ``url`` names a database server (PostgreSQL), not a SQLite file."""
    return "://" in url and make_url(url).get_backend_name() in SERVER_BACKENDS


def shown(url: str | URL) -> str:
    """The URL as it may be shown or logged: without its password."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def server_url(url: str, environ: Mapping[str, str] | None = None) -> URL:
    """``url`` with the psycopg 3 driver (``postgresql://`` means psycopg2 to SQLAlchemy), after
    the TLS rule: :class:`InsecureServer` says why a URL is refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in SERVER_BACKENDS:
        raise ValueError(f"not a server URL: {shown(parsed)}")
    if parsed.get_driver_name() != DRIVER:
        parsed = parsed.set(drivername=f"postgresql+{DRIVER}")
    require_tls(parsed, os.environ if environ is None else environ)
    return parsed


def require_tls(url: URL, environ: Mapping[str, str]) -> None:
    """Refuse a connection over the network that does not require TLS."""
    remote = [host for host in _hosts(url, environ) if not _local(host)]
    if not remote:
        return
    mode = _param(url, "sslmode") or environ.get("PGSSLMODE", "")
    if mode in TLS_MODES:
        return
    said = f"sslmode={mode}" if mode else "没有写 sslmode"
    raise InsecureServer(
        f"拒绝连接数据库服务器 {'、'.join(remote)}：连接没有要求加密（{said}）。"
        "经网络连接服务器时必须使用 TLS 加密，否则身份证号、住址、密码等会以明文在网络上传输。"
        "请在连接地址末尾加上 ?sslmode=verify-full（推荐：核对服务器证书，"
        "另加 &sslrootcert=根证书文件）或 ?sslmode=require。"
        "只有连接本机（localhost、127.0.0.1、::1 或 Unix 套接字）时可以不加密。"
    )


def _param(url: URL, name: str) -> str:
    value = url.query.get(name, "")
    return value[-1] if isinstance(value, tuple) else value


def _hosts(url: URL, environ: Mapping[str, str]) -> Iterator[str]:
    """Every address libpq may connect to for ``url`` (a comma-separated list is several)."""
    if _param(url, "service") or (
        environ.get("PGSERVICE") and not (url.host or _param(url, "host"))
    ):
        yield f"service={_param(url, 'service') or environ['PGSERVICE']}"
    named = [url.host or "", _param(url, "host"), _param(url, "hostaddr")]
    if not any(named):
        named = [environ.get("PGHOST", ""), environ.get("PGHOSTADDR", "")]
    for entry in named:
        yield from (host.strip() for host in entry.split(",") if host.strip())


def _local(host: str) -> bool:
    if host.startswith("/") or host.startswith("@"):  # a Unix socket folder (or abstract one)
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def driver_missing() -> UserError | None:
    """Why a server cannot be opened on this computer (the driver is not installed), or None."""
    try:
        import psycopg  # noqa: F401 - optional: psycopg is installed only on the common CPUs
    except ImportError:
        return UserError(
            "本机的程序没有 PostgreSQL 驱动（psycopg），无法连接数据库服务器。"
            "请安装带服务器支持的版本，或在本机使用数据库文件。"
        )
    return None
