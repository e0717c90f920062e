"""Where the checkout's data lives."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
PROFILES_DIR = SCHEMAS_DIR / "profiles"
BUDGETS_DIR = SCHEMAS_DIR / "budgets"
SUITES_DIR = REPO_ROOT / "suites"
REPORTS_DIR = REPO_ROOT / "reports"
