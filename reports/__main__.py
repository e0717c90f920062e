"""`python -m reports RUN_DIR...`: the same as `compat-suite report`."""

from ._cli import main

raise SystemExit(main())
