"""Where the checkout is, for tests that run commands in it or read its files."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"  # the shared reference folder beside the checkout
