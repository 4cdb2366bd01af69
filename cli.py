"""The `nostrbazaar` console command."""

from __future__ import annotations

import argparse
import sys

from loguru import logger

from .config import ConfigError, Settings


def _serve(settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    logger.info("serving on http://{}:{}", settings.host, settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nostrbazaar", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the order processor and web UI")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logger.remove()
    logger.add(sys.stderr, level=settings.log_level)
    if args.command == "serve":
        return _serve(settings)
    return 1  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
