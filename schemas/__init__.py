"""The ground floor: the single source of truth for shapes, and the code that loads it.

- `openapi.yaml`: the API as OpenAPI 3.1 / JSON Schema; `validator`, `errors`, `component_schema`.
- `profiles/`: what each provider documents; `load_profile`, `Profile`.
- `budgets/`: performance budgets; `load_budget`, `evaluate_budget`.
- `results.schema.json`, `load.schema.json`: the formats of a run's files; `results_problems`.
- `options.yaml`: the command-line, ini and environment contract of every entry point; `options`.
- the redaction rules every package writes evidence and logs with; `redact_text`.

The suite, the reference server and the report builder import this package; it imports nothing of ours.
"""

from ._budgets import (
    BUDGET_METRICS,
    BUDGETS_DIR,
    BudgetError,
    BudgetFile,
    LoadShape,
    load_budget,
    resolve_budget_path,
)
from ._budgets import evaluate as evaluate_budget
from ._citations import SHARED_DIR_ENV, Citation, resolve_doc, shared_docs_dir
from ._openapi import OPENAPI_PATH, SchemaError, component_schema, errors, load_openapi, param_path, validator
from ._options import (
    Option,
    add_arguments,
    options,
    options_for,
    parse_headers,
    project_table,
    resolved,
    secret_values,
)
from ._profile import (
    CLIENT_MISTAKES,
    CONDITIONS,
    DEFAULT_STATUSES,
    ENDPOINTS,
    Expectation,
    Profile,
    ProfileError,
    StatusRule,
    Verdict,
)
from ._profile_loader import PROFILES_DIR, SCHEMA_FILE, available_profiles, load_profile, verify_citations
from ._redact import REDACTED, SECRET_HEADERS, redact_headers, redact_text
from ._run_files import LOAD_SCHEMA, RESULTS_SCHEMA, load_problems, results_problems, summarize_problems
from ._verdicts import FAILING, NOT_JUDGED, VERDICT_RANK, VERDICTS, WARNING

__all__ = [
    "BUDGETS_DIR",
    "BUDGET_METRICS",
    "CLIENT_MISTAKES",
    "CONDITIONS",
    "DEFAULT_STATUSES",
    "ENDPOINTS",
    "FAILING",
    "LOAD_SCHEMA",
    "NOT_JUDGED",
    "OPENAPI_PATH",
    "PROFILES_DIR",
    "REDACTED",
    "RESULTS_SCHEMA",
    "SCHEMA_FILE",
    "SECRET_HEADERS",
    "SHARED_DIR_ENV",
    "VERDICTS",
    "VERDICT_RANK",
    "WARNING",
    "BudgetError",
    "BudgetFile",
    "Citation",
    "Expectation",
    "LoadShape",
    "Option",
    "Profile",
    "ProfileError",
    "SchemaError",
    "StatusRule",
    "Verdict",
    "add_arguments",
    "available_profiles",
    "component_schema",
    "errors",
    "evaluate_budget",
    "load_budget",
    "load_openapi",
    "load_problems",
    "load_profile",
    "options",
    "options_for",
    "param_path",
    "parse_headers",
    "project_table",
    "redact_headers",
    "redact_text",
    "resolve_budget_path",
    "resolve_doc",
    "resolved",
    "results_problems",
    "secret_values",
    "shared_docs_dir",
    "summarize_problems",
    "validator",
    "verify_citations",
]
