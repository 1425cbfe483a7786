"""Who may use the web app: TLS certificate, admin password, sessions, phone and API tokens.

Everything lives in the web state directory, readable by the service user only:

- ``cert.pem`` / ``key.pem``: a self-signed certificate made on first start (``tls: auto``).
- ``admin.passwd``: the admin password as an scrypt hash (``familiar hub web-password``).
- ``secret``: the key that signs session cookies.
- ``tokens.json``: phone pairings and API tokens, kept as SHA-256 hashes only.

Tokens and passwords are never logged; a refused request logs who asked, not with what.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from familiar.server import Network, address_allowed

_LOGGER = logging.getLogger(__name__)

TokenKind = Literal["phone", "api"]
_SCRYPT = {"n": 1 << 14, "r": 8, "p": 1}


def write_private(path: Path, data: bytes) -> None:
    """Write a file only the owner can read (created 0600 before any byte is written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


# --- TLS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path
    fingerprint: str
    """SHA-256 of the certificate (DER), as browsers show it: ``AB:CD:...``."""


def fingerprint(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(cert_pem)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def ensure_certificate(state_dir: Path, names: list[str]) -> Certificate:
    """The self-signed certificate in ``state_dir``, made on first use (10 years, EC P-256)."""
    cert_file, key_file = state_dir / "cert.pem", state_dir / "key.pem"
    if not (cert_file.is_file() and key_file.is_file()):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        alt: list[x509.GeneralName] = []
        for name in dict.fromkeys(names):
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        write_private(
            key_file,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        write_private(cert_file, cert.public_bytes(serialization.Encoding.PEM))
        _LOGGER.info("made a self-signed certificate for %s", ", ".join(dict.fromkeys(names)))
    return Certificate(cert_file, key_file, fingerprint(cert_file.read_bytes()))


def certificate_names(host: str) -> list[str]:
    """Names a phone on the LAN may use for this machine."""
    names = [socket.gethostname(), f"{socket.gethostname()}.local", "localhost", "127.0.0.1"]
    if host not in ("0.0.0.0", "::", ""):
        names.insert(0, host)
    else:
        with_lan = _lan_address()
        if with_lan:
            names.insert(0, with_lan)
    return names


def _lan_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, only a route chosen
            return str(sock.getsockname()[0])
    except OSError:
        return None


# --- admin password ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.strip().split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRecord:
    id: str
    kind: TokenKind
    name: str
    created: str
    sha256: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Credentials:
    """The web state directory: password hash, session key, tokens."""

    def __init__(self, state_dir: Path, session_seconds: float) -> None:
        self.state_dir = state_dir
        self.session_seconds = session_seconds
        self.password_file = state_dir / "admin.passwd"
        self._tokens_file = state_dir / "tokens.json"
        secret_file = state_dir / "secret"
        if not secret_file.is_file():
            write_private(secret_file, secrets.token_bytes(32))
        self._secret = secret_file.read_bytes()
        self._tokens = self._read_tokens()

    # admin

    def ensure_password(self) -> Path | None:
        """On first start, make a random admin password; the file it is in (to read once)."""
        if self.password_file.is_file():
            return None
        password = secrets.token_urlsafe(12)
        self.set_password(password)
        initial = self.state_dir / "initial-password"
        write_private(initial, (password + "\n").encode())
        return initial

    def set_password(self, password: str) -> None:
        write_private(self.password_file, (hash_password(password) + "\n").encode())

    def login(self, password: str) -> bool:
        try:
            stored = self.password_file.read_text()
        except OSError:
            return False
        return check_password(password, stored)

    # sessions: signed, expiring cookies carrying their own CSRF token

    def new_session(self) -> tuple[str, str]:
        """A cookie value and the CSRF token that unsafe requests must echo in a header."""
        csrf = secrets.token_urlsafe(16)
        payload = json.dumps({"exp": time.time() + self.session_seconds, "csrf": csrf})
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}", csrf

    def session(self, cookie: str | None) -> str | None:
        """The session's CSRF token when the cookie is valid and unexpired."""
        if not cookie or "." not in cookie:
            return None
        body, sig = cookie.rsplit(".", 1)
        if not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            if float(data["exp"]) < time.time():
                return None
            return str(data["csrf"])
        except (ValueError, KeyError, TypeError):
            return None

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    # tokens

    def _read_tokens(self) -> dict[str, TokenRecord]:
        try:
            raw = json.loads(self._tokens_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            _LOGGER.error("cannot read %s (%s): no tokens are valid", self._tokens_file, err)
            return {}
        return {item["id"]: TokenRecord(**item) for item in raw}

    def _write_tokens(self) -> None:
        data = json.dumps([asdict(t) for t in self._tokens.values()], indent=1)
        write_private(self._tokens_file, data.encode())

    def issue(self, kind: TokenKind, name: str) -> tuple[TokenRecord, str]:
        """A new token (shown once); only its hash is kept."""
        token = secrets.token_urlsafe(24)
        record = TokenRecord(
            id=secrets.token_hex(4),
            kind=kind,
            name=name[:60] or kind,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            sha256=_token_hash(token),
        )
        self._tokens[record.id] = record
        self._write_tokens()
        return record, token

    def revoke(self, token_id: str) -> bool:
        if self._tokens.pop(token_id, None) is None:
            return False
        self._write_tokens()
        return True

    def tokens(self) -> list[TokenRecord]:
        return sorted(self._tokens.values(), key=lambda t: t.created)

    def check_token(self, token: str | None, kinds: tuple[TokenKind, ...]) -> TokenRecord | None:
        if not token:
            return None
        digest = _token_hash(token)
        for record in self._tokens.values():
            if record.kind in kinds and hmac.compare_digest(record.sha256, digest):
                return record
        return None


class AllowList:
    """Client networks allowed (CIDR), checked as the Wyoming server checks its peers."""

    def __init__(self, networks: list[str]) -> None:
        self._nets: list[Network] = [ipaddress.ip_network(n, strict=False) for n in networks]

    def allows(self, host: str | None) -> bool:
        return host is not None and address_allowed(host, self._nets)


# --- admin login attempts -------------------------------------------------------------------


class LoginThrottle:
    """Failed admin logins per client address: a token bucket each, in bounded memory.

    An address may fail ``attempts`` times in a row; after that it gets one more try every
    ``refill_seconds``, and a login before then is refused without looking at the password
    (:meth:`retry_after` says how long to wait). A successful login clears its address. IPv6
    clients count per /64 (one host usually holds a whole /64). At most ``max_addresses`` are
    remembered; when full, the one that failed longest ago is forgotten first. The clock is
    given (``time.monotonic`` by default), so tests need no waiting."""

    def __init__(
        self,
        attempts: int = 5,
        refill_seconds: float = 60.0,
        max_addresses: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 1 or refill_seconds <= 0 or max_addresses < 1:
            raise ValueError("attempts, refill_seconds and max_addresses must be positive")
        self.attempts = attempts
        self.refill_seconds = refill_seconds
        self.max_addresses = max_addresses
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        """address -> (tries left, when counted); the least recently failed first."""

    @staticmethod
    def key(address: str | None) -> str:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return address or "?"
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)

    def _left(self, key: str, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return float(self.attempts)
        left, when = entry
        return min(float(self.attempts), left + (now - when) / self.refill_seconds)

    def retry_after(self, address: str | None) -> float:
        """Seconds until ``address`` may try again; 0 when it may now."""
        left = self._left(self.key(address), self._clock())
        return 0.0 if left >= 1 else (1 - left) * self.refill_seconds

    def failed(self, address: str | None) -> None:
        key, now = self.key(address), self._clock()
        left = max(0.0, self._left(key, now) - 1)
        self._buckets[key] = (left, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)

    def succeeded(self, address: str | None) -> None:
        self._buckets.pop(self.key(address), None)

    def __len__(self) -> int:
        return len(self._buckets)
