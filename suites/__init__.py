"""The suites users run: thin pytest files over the scenario registry (compat_suite.scenarios).

`compat-suite run` runs them; so does `pytest --pyargs suites --compat-base-url URL`.
"""
