"""`python -m compat_suite.load ...` is `compat-suite load ...`."""

from . import main

raise SystemExit(main())
