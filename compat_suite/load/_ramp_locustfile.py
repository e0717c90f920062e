"""A locustfile holding only the ramp shape; the runner adds it (`-f locustfile.py,this`) for `--ramp`.

Locust applies any shape class it finds, so the shape cannot live in the main locustfile.
"""

from compat_suite.load.users import RampShape


class Ramp(RampShape):
    """Steps through the stages of `--llm-ramp`."""
