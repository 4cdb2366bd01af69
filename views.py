"""HTML pages: the merchant dashboard (`/`) and the customer market (`/market`).

No template engine and no build step: a page is an HTML file whose
`<!-- include: NAME -->` lines are replaced by the component templates under
`templates/nostrbazaar/components/`, and whose `<!-- config -->` line becomes a
JSON script block the page reads at start. Vue 3 and Quasar compile the
templates in the browser, the way LNbits extensions ship their UI.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from . import __version__
from .api.auth import runtime_of
from .engine.runtime import Runtime
from .nostr.nip19 import normalize_public_key
from .services.accounts import allowed_relays

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_DIR / "templates" / "nostrbazaar"
STATIC = PACKAGE_DIR / "static"
_INCLUDE = re.compile(r"^[ \t]*<!-- include: ([a-z0-9-]+) -->[ \t]*$", re.MULTILINE)
_CONFIG = "<!-- config -->"
_MAX_NAMED = 50  # merchants one market URL may name
# Scripts only from this server; 'unsafe-eval' because Vue compiles the in-page
# templates at run time (no build step). The market talks to any relay (ws/wss)
# and shows product images from anywhere.
_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src * data:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

views_router = APIRouter(include_in_schema=False)
views_router.mount("/static", StaticFiles(directory=STATIC), name="nostrbazaar_static")


@cache
def _page_source(name: str) -> str:
    """The page with its component templates inlined (read once per process)."""
    page = (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")
    return _INCLUDE.sub(_component_template, page)


def _component_template(match: re.Match[str]) -> str:
    return (TEMPLATES / "components" / f"{match.group(1)}.html").read_text(encoding="utf-8")


def _config_block(config: dict[str, Any]) -> str:
    payload = json.dumps(config).replace("<", "\\u003c")
    return f'<script id="nb-config" type="application/json">{payload}</script>'


def render_page(name: str, config: dict[str, Any], base: str = "") -> HTMLResponse:
    """The page with its start-up configuration embedded as JSON; `base` is the path the
    app is served under (`/nostrbazaar` inside LNbits), before its static files."""
    block = _config_block({**config, "base": base})
    html = _page_source(name).replace(_CONFIG, block).replace("__VERSION__", __version__)
    html = html.replace('"/static/', f'"{base}/static/')
    return HTMLResponse(html, headers=_SECURITY_HEADERS)


# The dashboard inside LNbits' page frame (extension/pages.py): LNbits brings Vue, Quasar and
# nostr-tools; our scripts, component templates and config are the standalone page's.
_SCRIPT = re.compile(r'<script src="/static/([^"?]+)(?:\?v=__VERSION__)?"></script>')
_FROM_LNBITS = {"vendor/vue/", "vendor/quasar/", "vendor/nostr-tools/"}


@cache
def lnbits_dashboard(base: str) -> dict[str, str]:
    """`page` (the markup in LNbits' page), `templates` (components and config) and
    `scripts` (our script tags) for `templates/nostrbazaar/lnbits.html`."""
    index = (TEMPLATES / "index.html").read_text(encoding="utf-8")
    includes = "\n".join(match.group(0) for match in _INCLUDE.finditer(index))
    config = {"version": __version__, "base": base, "host": "lnbits"}
    scripts = [
        path
        for path in _SCRIPT.findall(index)
        if not any(path.startswith(prefix) for prefix in _FROM_LNBITS)
    ]
    tags = [f'<script src="{base}/static/{path}?v={__version__}"></script>' for path in scripts]
    tags.append(f'<script src="{base}/static/js/lnbits-dashboard.js?v={__version__}"></script>')
    return {
        "page": _page_source("lnbits-page"),
        "templates": _INCLUDE.sub(_component_template, includes) + _config_block(config),
        "scripts": "\n".join(tags),
        "base": base,
        "version": __version__,
    }


def _runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def market_config(runtime: Runtime, named: list[str] | None = None) -> dict[str, Any]:
    """The relays and merchants the market page starts with.

    The merchants shown are those named (`?merchant=`, npub or hex) that are active
    here, or every active merchant when none is named. The relays are the operator's
    plus the relays of the merchants shown, and only those a merchant may use here
    (`services.accounts.relay_problem`): every visitor connects to them. Only public
    columns are read (never the sealed keys); the query lives here because no crud
    function lists active merchants without opening their keys.
    """
    rows = await runtime.db.fetchall(
        "SELECT public_key, relays FROM merchants WHERE active = 1 ORDER BY created_at"
    )
    if named is not None:
        rows = [row for row in rows if row["public_key"] in named]
    relays = list(runtime.relays)
    for row in rows:
        urls = [url for url in json.loads(row["relays"] or "[]") if isinstance(url, str)]
        relays += allowed_relays(runtime, urls)
    return {
        "relays": list(dict.fromkeys(relays)),
        "merchants": [row["public_key"] for row in rows],
    }


def named_merchants(request: Request) -> list[str] | None:
    """The merchants the URL names (`?merchant=npub1...`, repeated or comma-separated),
    as hex public keys; None when it names none. A value that is not a key names nobody."""
    values = [
        part.strip()
        for value in request.query_params.getlist("merchant")
        for part in value.split(",")
        if part.strip()
    ]
    if not values:
        return None
    keys = []
    for value in values[:_MAX_NAMED]:
        try:
            keys.append(normalize_public_key(value))
        except ValueError:
            continue
    return keys


@views_router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    """The merchant dashboard; it signs in with an admin key held in sessionStorage."""
    return render_page("index", {"version": __version__})


@views_router.get("/market", response_class=HTMLResponse)
async def market(request: Request) -> HTMLResponse:
    """The customer market, pre-configured with this server's relays and merchants."""
    return await market_page(request)


async def market_page(request: Request, base: str = "") -> HTMLResponse:
    """The market page for `request`, served under `base` (also inside LNbits)."""
    config = await market_config(_runtime(request), named_merchants(request))
    return render_page("market", {"version": __version__, **config}, base)


@views_router.get("/market/config.json")
async def market_config_json(request: Request) -> dict[str, Any]:
    """The same configuration as JSON, for scripts and other market front-ends."""
    return await market_config(_runtime(request), named_merchants(request))
