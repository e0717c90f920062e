"""`python -m reference_server`: the same as `compat-suite serve`."""

import sys

from .serve import main

if __name__ == "__main__":
    sys.exit(main())
