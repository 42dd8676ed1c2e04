"""One way for tests to run the `digest` command: in this process, as a user would type it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from digest_cli.cli import cli


def run_cli(root: Path | None, *args: str, env: dict[str, str | None] | None = None,
            catch_exceptions: bool = False) -> Result:
    """`digest --root ROOT ARGS` (no --root when `root` is None); `env` entries set or, when
    None, unset variables for the run. An unexpected exception propagates unless
    `catch_exceptions`."""
    argv = [*(["--root", str(root)] if root is not None else []), *args]
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=catch_exceptions)


def one_error(result: Result) -> str:
    """The single `Error...` line of a run that failed with exit status 1, no traceback."""
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]
