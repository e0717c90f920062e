"""The tools scenarios of compat_suite/scenarios/: one test per scenario run."""

from compat_suite.fixtures import suite_test

test_tools = suite_test("tools")
