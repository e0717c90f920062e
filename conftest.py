"""Makes `pytest suites/` work from a checkout: loads the plugin unless it is installed."""

from importlib.metadata import entry_points

if not any(ep.value == "compat_suite.plugin" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["compat_suite.plugin"]
