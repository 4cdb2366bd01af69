"""What a server on a public address opens by default: nothing a stranger could use.

Sign-up and private relays default to true only when `NOSTRBAZAAR_HOST` is a loopback
address; an explicit value always wins.
"""

from __future__ import annotations

import pytest
from nostrbazaar.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("shop.example.com", False)],
)  # fmt: skip
def test_sign_up_and_private_relays_default_to_open_only_on_a_loopback_host(
    host: str, loopback: bool
) -> None:
    settings = Settings.from_env({"NOSTRBAZAAR_HOST": host})
    assert (settings.signup_open, settings.private_relays_allowed) == (loopback, loopback)


def test_explicit_values_win_over_the_host_default() -> None:
    public = Settings.from_env(
        {"NOSTRBAZAAR_HOST": "0.0.0.0", "NOSTRBAZAAR_ALLOW_SIGNUP": "true",
         "NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS": "yes"}
    )  # fmt: skip
    assert (public.signup_open, public.private_relays_allowed) == (True, True)
    local = Settings.from_env(
        {"NOSTRBAZAAR_ALLOW_SIGNUP": "false", "NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS": "0"}
    )
    assert (local.signup_open, local.private_relays_allowed) == (False, False)


def test_a_bad_private_relays_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS"):
        Settings.from_env({"NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS": "sometimes"})
