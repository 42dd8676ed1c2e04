"""The library type-checks: mypy on digest_cli (configured in pyproject.toml [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors_in_the_library():
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
