"""Configuration from `NOSTRBAZAAR_*` environment variables.

Every value is parsed and checked once at start-up; a bad one raises
`ConfigError` naming the variable, so the process stops with a clear message.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

PREFIX = "NOSTRBAZAAR_"
WALLETS = ("fake", "lnbits", "nwc")
EMBEDDED_RELAY_PORT = 7447
T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration variable holds a value we cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{PREFIX}{variable}: {problem}")
        self.variable = PREFIX + variable


@dataclass(frozen=True)
class Settings:
    """Everything the process is configured with; see the README for each variable."""

    host: str = "127.0.0.1"
    port: int = 5000
    data_dir: Path = Path("./data")
    relays: tuple[str, ...] = ()
    secret: str | None = None
    wallet: str = "fake"
    lnbits_url: str | None = None
    lnbits_invoice_key: str | None = None
    nwc_uri: str | None = None
    invoice_expiry_seconds: int = 3600
    # None: true only when `host` is a loopback address (see `signup_open`).
    allow_signup: bool | None = None
    # None: true only when `host` is a loopback address (see `private_relays_allowed`).
    allow_private_relays: bool | None = None
    fiat_rates: Mapping[str, Decimal] = field(default_factory=dict)
    # Live rates: a URL answering `{"USD": 62500.5, ...}` (the price of one BTC in each
    # currency), fetched every `rates_refresh_seconds`; `fiat_rates` is the fallback.
    rates_url: str | None = None
    rates_refresh_seconds: int = 300
    max_open_orders_per_customer: int = 5
    new_customer_expiry_seconds: int = 600
    new_customer_stock_share: int = 50
    outbox_max_attempts: int = 20
    log_level: str = "INFO"
    # Where buyers reach this server (`https://shop.example`): names the merchants'
    # lightning addresses (`<npub>@shop.example`) and the LNURL-pay callback.
    public_url: str | None = None
    # The embedded relay's port (with no RELAYS): fixed, so a restart changes no customer's
    # relay URL. 0 picks a free one each start (tests); `from_env` defaults to 7447.
    embedded_relay_port: int = 0
    # Cashu mints whose ecash every merchant accepts (each merchant may add its own).
    cashu_mints: tuple[str, ...] = ()
    database_url: str | None = None
    lease_seconds: int = 30

    @property
    def database_path(self) -> Path:
        return self.data_dir / "nostrbazaar.sqlite3"

    @property
    def serves_loopback(self) -> bool:
        """True when the server binds a loopback address: only this machine can reach it."""
        return is_loopback_host(self.host)

    @property
    def signup_open(self) -> bool:
        """Whether `POST /account` creates accounts: by default only on a loopback bind,
        so a server put on a public address is not open to anyone who finds it."""
        return self.serves_loopback if self.allow_signup is None else self.allow_signup

    @property
    def private_relays_allowed(self) -> bool:
        """Whether merchants may name relays that are not `wss://` to a public host: by
        default only on a loopback bind (a development setup)."""
        if self.allow_private_relays is None:
            return self.serves_loopback
        return self.allow_private_relays

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every `NOSTRBAZAAR_*` variable."""
        source = os.environ if env is None else env

        def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
            raw = source.get(PREFIX + name, "").strip()
            return parse(name, raw) if raw else default

        expiry = get("INVOICE_EXPIRY", _positive_int, 3600)
        settings = cls(
            host=get("HOST", _text, "127.0.0.1"),
            port=get("PORT", _port, 5000),
            data_dir=get("DATA_DIR", lambda _n, v: Path(v), Path("./data")),
            relays=get("RELAYS", _relay_list, ()),
            secret=get("SECRET", _optional_text, None),
            wallet=get("WALLET", _wallet, "fake"),
            lnbits_url=get("LNBITS_URL", _http_url, None),
            lnbits_invoice_key=get("LNBITS_INVOICE_KEY", _optional_text, None),
            nwc_uri=get("NWC_URI", _nwc_uri, None),
            invoice_expiry_seconds=expiry,
            allow_signup=get("ALLOW_SIGNUP", _boolean, None),
            allow_private_relays=get("ALLOW_PRIVATE_RELAYS", _boolean, None),
            fiat_rates=get("FIAT_RATES", _fiat_rates, {}),
            rates_url=get("RATES_URL", _http_url, None),
            rates_refresh_seconds=get("RATES_REFRESH", _positive_int, 300),
            max_open_orders_per_customer=get("MAX_OPEN_ORDERS", _positive_int, 5),
            new_customer_expiry_seconds=get(
                "NEW_CUSTOMER_EXPIRY",
                _at_most(expiry, "NOSTRBAZAAR_INVOICE_EXPIRY"),
                min(600, expiry),
            ),
            new_customer_stock_share=get("NEW_CUSTOMER_STOCK_SHARE", _percent, 50),
            outbox_max_attempts=get("OUTBOX_MAX_ATTEMPTS", _positive_int, 20),
            log_level=get("LOG_LEVEL", _log_level, "INFO"),
            public_url=get("PUBLIC_URL", _public_url, None),
            embedded_relay_port=get("EMBEDDED_RELAY_PORT", _port_or_zero, EMBEDDED_RELAY_PORT),
            cashu_mints=get("CASHU_MINTS", _mint_list, ()),
            database_url=get("DATABASE_URL", _database_url, None),
            lease_seconds=get("LEASE_SECONDS", _positive_int, 30),
        )
        _check_wallet(settings)
        settings.check_secret()
        return settings

    def check_secret(self) -> None:
        """With a shared database the sealed keys must open on every instance: the secret
        must come from the configuration, never from a file one instance generated."""
        if self.database_url and not self.secret:
            raise ConfigError(
                "SECRET",
                "required when NOSTRBAZAAR_DATABASE_URL is set (every instance must open the "
                "merchant keys sealed in the database); set it to the same long random string "
                "on every instance",
            )


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback IP address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _text(_name: str, raw: str) -> str:
    return raw


def _optional_text(_name: str, raw: str) -> str | None:
    return raw


def _port(name: str, raw: str) -> int:
    port = _integer(name, raw)
    if not 1 <= port <= 65535:
        raise ConfigError(name, f"port must be between 1 and 65535, got {raw!r}")
    return port


def _port_or_zero(name: str, raw: str) -> int:
    """A port (1-65535), or 0 for a free one chosen at start-up."""
    return 0 if raw == "0" else _port(name, raw)


def _check_wallet(settings: Settings) -> None:
    """The chosen wallet's own settings must be there: fail now, naming the one missing,
    rather than after the relay and the database have started."""
    required = {
        "lnbits": (
            ("LNBITS_URL", settings.lnbits_url, "the LNbits base URL, e.g. https://lnbits.example"),
            ("LNBITS_INVOICE_KEY", settings.lnbits_invoice_key, "the wallet's invoice/read key"),
        ),
        "nwc": (("NWC_URI", settings.nwc_uri, "nostr+walletconnect://..."),),
    }
    for variable, value, hint in required.get(settings.wallet, ()):
        if not value:
            raise ConfigError(
                variable, f"required with NOSTRBAZAAR_WALLET={settings.wallet} ({hint})"
            )


def _positive_int(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value <= 0:
        raise ConfigError(name, f"must be a positive integer, got {raw!r}")
    return value


def _at_most(limit: int, limit_name: str) -> Callable[[str, str], int]:
    """A positive integer no larger than `limit` (another setting's value)."""

    def parse(name: str, raw: str) -> int:
        value = _positive_int(name, raw)
        if value > limit:
            raise ConfigError(name, f"must be at most {limit_name} ({limit}), got {raw!r}")
        return value

    return parse


def _percent(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if not 1 <= value <= 100:
        raise ConfigError(name, f"must be a percentage from 1 to 100, got {raw!r}")
    return value


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


def _relay_list(name: str, raw: str) -> tuple[str, ...]:
    urls = [part.strip() for part in raw.split(",") if part.strip()]
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("ws", "wss") or not parsed.hostname:
            raise ConfigError(name, f"not a ws:// or wss:// relay URL: {url!r}")
        try:
            _ = parsed.port
        except ValueError:
            raise ConfigError(name, f"bad port in relay URL: {url!r}") from None
    return tuple(dict.fromkeys(urls))


def _http_url(name: str, raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(name, f"not an http:// or https:// URL: {raw!r}")
    return raw.rstrip("/")


def _mint_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated http(s) mint URLs, without a trailing slash (as tokens name them)."""
    urls = [_http_url(name, part.strip()) for part in raw.split(",") if part.strip()]
    return tuple(dict.fromkeys(urls))


def _nwc_uri(name: str, raw: str) -> str:
    if not raw.startswith("nostr+walletconnect://"):
        raise ConfigError(name, "must start with nostr+walletconnect://")
    return raw


def _database_url(name: str, raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise ConfigError(name, "must be a postgresql://user@host:port/database URL")
    try:
        _ = parsed.port
    except ValueError:
        raise ConfigError(name, "bad port in the database URL") from None
    if not parsed.hostname and "host=" not in parsed.query:
        raise ConfigError(name, "the database URL names no host")
    return raw


def _wallet(name: str, raw: str) -> str:
    if raw not in WALLETS:
        raise ConfigError(name, f"must be one of {', '.join(WALLETS)}, got {raw!r}")
    return raw


def _public_url(name: str, raw: str) -> str:
    """An http(s) origin, optionally with a path prefix; no query, fragment or credentials."""
    url = _http_url(name, raw)
    parsed = urlparse(url)
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise ConfigError(name, f"must be a plain http(s) address, got {raw!r}")
    return url


def _log_level(name: str, raw: str) -> str:
    level = raw.upper()
    if level not in ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(name, f"unknown log level {raw!r}")
    return level


def _fiat_rates(name: str, raw: str) -> dict[str, Decimal]:
    """Parse `USD=1600,EUR=1700`: satoshis per one unit of each currency."""
    rates: dict[str, Decimal] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        code, _, value = pair.partition("=")
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise ConfigError(name, f"bad rate in {pair!r}; expected CODE=sats") from None
        if not code.strip().isalpha() or not rate.is_finite() or rate <= 0:
            raise ConfigError(name, f"bad rate in {pair!r}; expected CODE=sats")
        rates[code.strip().upper()] = rate
    return rates
