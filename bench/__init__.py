"""The benchmark harness: `make bench` (`.venv/bin/python -m bench`); see bench/__main__.py."""
