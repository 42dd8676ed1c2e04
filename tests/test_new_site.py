"""A new site: the suite passes in a copy of this repository whose content is another
site's (no sample day, another field, another glossary), as docs/setup.md makes one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLE_DAY

# A representative part of the suite: the files that once read the repository's data/ and
# _posts/ at import time or through its settings (records, post, check, sync, import).
SUBSET = ["tests/test_check.py", "tests/test_sync.py", "tests/test_import.py",
          "tests/test_render_import.py", "tests/test_sentences.py", "tests/test_validate.py",
          "tests/test_publish_body.py", "tests/test_cli.py"]


def template_copy(dest: Path) -> Path:
    """"Use this template": every file git tracks (and any new one not ignored), as a new
    repository receives them."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"], capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def make_other_site(dest: Path) -> Path:
    """The owner's steps of docs/setup.md, step 0: the sample day removed, the site's own
    field (cs.CL), topics and glossary."""
    site = template_copy(dest)
    shutil.rmtree(site / "data" / SAMPLE_DAY.isoformat(), ignore_errors=True)
    (site / "_posts" / f"{SAMPLE_DAY}-arxiv.md").unlink(missing_ok=True)
    (site / "data").mkdir(exist_ok=True)
    (site / "_posts").mkdir(exist_ok=True)
    with (site / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[tool.digest]\ncategories = ["cs.CL"]\ntags = ["arxiv", "cs.CL"]\n'
                 if "[tool.digest]" not in (site / "pyproject.toml").read_text("utf-8")
                 else "")
    text = (site / "pyproject.toml").read_text(encoding="utf-8")
    (site / "pyproject.toml").write_text(text.replace(
        'categories = ["cs.SD", "eess.AS"]', 'categories = ["cs.CL"]'), encoding="utf-8")
    (site / "glossary.yaml").write_text("large language model: 大语言模型\n", encoding="utf-8")
    (site / "topics.yaml").write_text(
        "- slug: llm\n  name: 大语言模型\n- slug: mt\n  name: 机器翻译\n", encoding="utf-8")
    return site


def test_the_suite_passes_in_a_site_with_no_sample_day_and_another_field(tmp_path):
    site = make_other_site(tmp_path / "site")
    assert not (site / "data" / SAMPLE_DAY.isoformat()).exists()
    assert 'categories = ["cs.CL"]' in (site / "pyproject.toml").read_text("utf-8")
    env = {**os.environ, "PYTHONPATH": str(site), "HYPOTHESIS_PROFILE": "ci"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "-p", "no:xdist", *SUBSET], cwd=site, env=env, capture_output=True, text=True,
        timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "error" not in result.stdout.splitlines()[-1]
