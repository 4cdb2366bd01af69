"""The `nostrbazaar` console command."""

from __future__ import annotations

import argparse
import sys

from loguru import logger

from .config import ConfigError, Settings


def _serve(settings: Settings) -> int:
    """Start the runtime, then serve. A start-up failure (a port in use, the wallet
    unreachable, ...) is one line on stderr and exit code 2, with nothing left running."""
    import asyncio

    return asyncio.run(_serve_async(settings))


async def _serve_async(settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    try:
        _check_port_free(settings.host, settings.port)
        app = create_app(settings)
        await app.state.runtime.start()  # stops what it started if it fails
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        print(f"cannot start: {str(error) or type(error).__name__}", file=sys.stderr)
        return 2
    logger.info("serving on http://{}:{}", settings.host, settings.port)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
    await uvicorn.Server(config).serve()  # the app's lifespan stops the runtime
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another process listens on before starting anything."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise ConfigError("PORT", f"cannot listen on {host}:{port}: {error.strerror}") from None


def _account_create(settings: Settings, name: str) -> int:
    """Create an account directly in the database (for when sign-up is turned off)."""
    import asyncio

    from pydantic import ValidationError

    from .engine.runtime import connect_database
    from .migrations import run_migrations
    from .models import AccountCreate
    from .services.accounts import new_account

    try:
        name = AccountCreate(name=name).name
    except ValidationError:
        print("the name must be 1 to 100 characters", file=sys.stderr)
        return 2

    async def create() -> None:
        db = await connect_database(settings)
        try:
            await run_migrations(db)
            account = await new_account(db, name)
        finally:
            await db.close()
        print(f"id:       {account.id}\nadminkey: {account.adminkey}\ninkey:    {account.inkey}")

    try:
        asyncio.run(create())
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    return 0


def _add_account_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    account = commands.add_parser("account", help="manage accounts")
    actions = account.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an account and print its keys")
    create.add_argument("name", help="a name for the account")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nostrbazaar", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the order processor and web UI")
    _add_account_commands(commands)
    pay = commands.add_parser("pay", help="settle a fake-wallet invoice on a running server")
    pay.add_argument("bolt11", help="the BOLT11 invoice to pay")
    pay.add_argument("--url", help="server base URL (default http://HOST:PORT from the config)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logger.remove()
    logger.add(_to_stderr, level=settings.log_level, diagnose=False)  # no local values in logs
    if args.command == "serve":
        return _serve(settings)
    if args.command == "pay":
        from .api.fakewallet import pay_command

        return pay_command(args.bolt11, args.url or f"http://{settings.host}:{settings.port}")
    if args.command == "account" and args.action == "create":
        return _account_create(settings, args.name)
    return 1  # pragma: no cover - argparse rejects unknown commands


def _to_stderr(message: str) -> None:
    """Write to whatever `sys.stderr` is now, so a replaced stream is never written after close."""
    sys.stderr.write(message)


if __name__ == "__main__":
    sys.exit(main())
