"""Third-party benchmark tools, each in its own virtualenv (never the project's .venv).

A tool is found by its environment variable (the path of its executable), else in
`$COMPAT_BENCH_VENVS/<name>/bin/<name>` (default /work/venvs, or ~/.cache/compat-suite/venvs where
/work does not exist); `ensure` creates that virtualenv and installs the pinned version when it is
missing. torch is pinned in every install: guidellm asks for an unpinned torch, which would pull
gigabytes of CUDA packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLS = {  # name: (env var, pip requirement)
    "guidellm": ("GUIDELLM", "guidellm==0.8.1"),
    "aiperf": ("AIPERF", "aiperf==0.13.0"),
}
TORCH_PIN = "torch==2.13.0"


def venvs_dir() -> Path:
    if os.environ.get("COMPAT_BENCH_VENVS"):
        return Path(os.environ["COMPAT_BENCH_VENVS"])
    return Path("/work/venvs") if Path("/work").is_dir() else Path.home() / ".cache/compat-suite/venvs"


def executable(name: str) -> Path:
    """Where the tool's executable is (it may not exist yet)."""
    env_var, _ = TOOLS[name]
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return venvs_dir() / name / "bin" / name


def ensure(name: str) -> Path:
    """The tool's executable, installing it into its own virtualenv first when it is missing."""
    exe = executable(name)
    if exe.exists():
        return exe
    if os.environ.get(TOOLS[name][0]):
        raise RuntimeError(f"{TOOLS[name][0]}={exe} does not exist")
    venv = exe.parent.parent
    print(f"installing {TOOLS[name][1]} into {venv} (once)", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write(TORCH_PIN + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-c", pins.name, TOOLS[name][1]], check=True)
    os.unlink(pins.name)
    return exe
