from decimal import Decimal

import pytest
from nostrbazaar.config import ConfigError, Settings


def test_defaults_are_the_embedded_setup():
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.relays, settings.wallet) == (
        "127.0.0.1",
        5000,
        (),
        "fake",
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "70000"),
        ("PORT", "zero"),
        ("RELAYS", "http://relay.example"),
        ("RELAYS", "wss://"),
        ("RELAYS", "ws://host:99999"),
        ("WALLET", "paypal"),
        ("ALLOW_SIGNUP", "maybe"),
        ("FIAT_RATES", "USD=abc"),
        ("INVOICE_EXPIRY", "-5"),
        ("RATES_URL", "ftp://rates.example"),
        ("RATES_REFRESH", "0"),
    ],
)
def test_bad_value_names_the_variable(variable, value):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({f"NOSTRBAZAAR_{variable}": value})
    assert f"NOSTRBAZAAR_{variable}" in str(raised.value)


def test_relays_are_parsed_and_deduplicated():
    env = {"NOSTRBAZAAR_RELAYS": "wss://a.example, ws://127.0.0.1:7000,wss://a.example"}
    assert Settings.from_env(env).relays == ("wss://a.example", "ws://127.0.0.1:7000")


def test_fiat_rates_are_exact_decimals():
    rates = Settings.from_env({"NOSTRBAZAAR_FIAT_RATES": "usd=1612.5,EUR=1700"}).fiat_rates
    assert rates == {"USD": Decimal("1612.5"), "EUR": Decimal("1700")}


def test_new_customers_get_ten_minutes_and_half_the_stock_by_default():
    settings = Settings.from_env({})
    assert (settings.new_customer_expiry_seconds, settings.new_customer_stock_share) == (600, 50)
    short = Settings.from_env({"NOSTRBAZAAR_INVOICE_EXPIRY": "300"})
    assert short.new_customer_expiry_seconds == 300  # the default never outlasts the invoice


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"NOSTRBAZAAR_NEW_CUSTOMER_EXPIRY": "3601"}, "NEW_CUSTOMER_EXPIRY"),
        ({"NOSTRBAZAAR_NEW_CUSTOMER_EXPIRY": "0"}, "NEW_CUSTOMER_EXPIRY"),
        ({"NOSTRBAZAAR_NEW_CUSTOMER_STOCK_SHARE": "0"}, "NEW_CUSTOMER_STOCK_SHARE"),
        ({"NOSTRBAZAAR_NEW_CUSTOMER_STOCK_SHARE": "101"}, "NEW_CUSTOMER_STOCK_SHARE"),
        ({"NOSTRBAZAAR_NEW_CUSTOMER_STOCK_SHARE": "half"}, "NEW_CUSTOMER_STOCK_SHARE"),
    ],
)
def test_new_customer_settings_out_of_range_name_the_variable(env, variable):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert f"NOSTRBAZAAR_{variable}" in str(raised.value)


def test_the_new_customer_expiry_may_not_outlast_the_invoice_expiry():
    env = {"NOSTRBAZAAR_INVOICE_EXPIRY": "900", "NOSTRBAZAAR_NEW_CUSTOMER_EXPIRY": "1200"}
    with pytest.raises(ConfigError, match="at most NOSTRBAZAAR_INVOICE_EXPIRY"):
        Settings.from_env(env)
    env["NOSTRBAZAAR_NEW_CUSTOMER_EXPIRY"] = "900"
    assert Settings.from_env(env).new_customer_expiry_seconds == 900


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"WALLET": "lnbits"}, "LNBITS_URL"),
        ({"WALLET": "lnbits", "LNBITS_URL": "https://lnbits.example"}, "LNBITS_INVOICE_KEY"),
        ({"WALLET": "nwc"}, "NWC_URI"),
    ],
)
def test_a_wallet_without_its_settings_names_the_missing_variable(env, missing):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({f"NOSTRBAZAAR_{name}": value for name, value in env.items()})
    assert raised.value.variable == f"NOSTRBAZAAR_{missing}"
    assert "required with NOSTRBAZAAR_WALLET=" in str(raised.value)


def test_the_embedded_relay_has_a_fixed_port_by_default_and_zero_means_any():
    assert Settings.from_env({}).embedded_relay_port == 7447
    env = {"NOSTRBAZAAR_EMBEDDED_RELAY_PORT": "0"}
    assert Settings.from_env(env).embedded_relay_port == 0
    with pytest.raises(ConfigError, match="NOSTRBAZAAR_EMBEDDED_RELAY_PORT"):
        Settings.from_env({"NOSTRBAZAAR_EMBEDDED_RELAY_PORT": "70000"})


def test_live_rates_are_off_by_default_and_refresh_every_five_minutes():
    settings = Settings.from_env({})
    assert (settings.rates_url, settings.rates_refresh_seconds) == (None, 300)
    env = {
        "NOSTRBAZAAR_RATES_URL": "https://rates.example/ticker/",
        "NOSTRBAZAAR_RATES_REFRESH": "60",
    }
    live = Settings.from_env(env)
    assert (live.rates_url, live.rates_refresh_seconds) == ("https://rates.example/ticker", 60)
