"""`digest new`: a site repository of one's own, for any arXiv field, in one command.

The site is written from the template this package sits in (a checkout of the digest
repository): the workflows, the tool (the workflows install it from the site), the Jekyll
template, an empty archive, and the site's identity, written once from the options: title
and description (`_config.yml`, which Jekyll reads), categories, tags, field name and the
topics and glossary files (`[tool.digest]` in pyproject.toml). What stays behind is the
tool's own development: tests/, benchmarks/, docs/, .ci/ and ci.yml, and the sample day.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from digest_cli.errors import DigestError
from digest_cli.records.topics import Topic

TEMPLATE = Path(__file__).resolve().parents[1]
# The tool's development, not the site: a new site keeps none of it (docs/setup.md).
LEFT_OUT = ("tests/", "benchmarks/", "docs/", ".ci/", ".github/workflows/ci.yml", "data/",
            "_posts/", "requirements/test.txt", "README.md", "glossary.yaml", "topics.yaml")
# A site's own top-level entries: when the template is not a git checkout, only these are
# copied (a checkout's `.env`, `.netrc`, `venv/` or caches never reach a new site).
SITE_ENTRIES = (".github", ".gitattributes", ".gitignore", "404.html", "LICENSE", "_config.yml",
                "_includes", "_layouts", "archive", "assets", "digest_cli", "index.html",
                "pyproject.toml", "requirements", "search")
# Litter inside those entries that git would not track.
UNTRACKED = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".DS_Store")
CATEGORY = re.compile(r"[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?")
TOPICS_FILE = "topics.yaml"
GLOSSARY_FILE = "glossary.yaml"


class NewSiteError(DigestError):
    """The site cannot be written (a bad option, a folder in the way, no template)."""

    stage = "new"


@dataclass(frozen=True)
class Field:
    """What a new site of a field starts with: its name in the prompts (settings
    field_name, field_examples, field_terms), its topics and glossary."""

    name: str
    topics: tuple[Topic, ...]
    glossary: dict[str, str] = field(default_factory=dict)
    examples: str = ""
    terms: str = ""


def _topics(*rows: tuple[str, str, str]) -> tuple[Topic, ...]:
    return tuple(Topic(*row) for row in rows) + (Topic("other", "其他", "Other"),)


# Starting points an owner edits; a field not listed starts with `other` only.
FIELDS: dict[str, Field] = {
    "cs.CL": Field("自然语言处理领域", _topics(
        ("llm", "大语言模型", "Large language models"),
        ("mt", "机器翻译", "Machine translation"),
        ("qa", "问答与检索", "Question answering and retrieval"),
        ("dialogue", "对话系统", "Dialogue systems"),
        ("ie", "信息抽取", "Information extraction"),
        ("multilingual", "多语言", "Multilingual and low-resource languages"),
        ("reasoning", "推理", "Reasoning"),
        ("evaluation", "评测与基准", "Evaluation and benchmarks"),
        ("safety", "对齐与安全", "Alignment and safety"),
    ), {"Transformer": "keep", "BERT": "keep", "GPT": "keep", "LLaMA": "keep", "BLEU": "keep",
        "ROUGE": "keep", "large language model": "大语言模型", "fine-tuning": "微调"},
        "机器翻译、问答与检索、对话系统、信息抽取、大语言模型", "BERT、LLaMA、BLEU、MMLU"),
    "cs.LG": Field("机器学习领域", _topics(
        ("deep-learning", "深度学习", "Deep learning"),
        ("optimization", "优化", "Optimization"),
        ("rl", "强化学习", "Reinforcement learning"),
        ("generative", "生成模型", "Generative models"),
        ("theory", "学习理论", "Learning theory"),
        ("graph", "图学习", "Graph learning"),
    ), {"Transformer": "keep", "Adam": "keep", "diffusion model": "扩散模型"},
        "深度学习、优化、强化学习、生成模型", "Adam、ImageNet、ResNet、FID"),
    "cs.CV": Field("计算机视觉领域", _topics(
        ("detection", "检测与分割", "Detection and segmentation"),
        ("generation", "图像与视频生成", "Image and video generation"),
        ("3d", "三维视觉", "3D vision"),
        ("multimodal", "多模态", "Vision and language"),
    ), {"ViT": "keep", "ImageNet": "keep", "COCO": "keep"},
        "检测与分割、图像生成、三维视觉、多模态", "ViT、ImageNet、COCO、mAP"),
    "cs.SD": Field("语音与音频领域", _topics(
        ("asr", "语音识别", "Speech recognition"),
        ("tts", "语音合成", "Speech synthesis and voice conversion"),
        ("speaker", "说话人", "Speaker recognition, verification and diarization"),
        ("enhancement", "增强与分离", "Speech enhancement and separation"),
        ("music", "音乐", "Music"),
        ("audio-understanding", "音频理解", "Audio understanding and captioning"),
        ("spoofing", "伪造检测", "Spoofing and deepfake detection"),
        ("codec", "编解码与离散化", "Audio codecs and tokenizers"),
        ("spoken-lm", "口语语言模型", "Spoken language models and dialogue"),
    ), {"HuBERT": "keep", "WavLM": "keep", "Whisper": "keep", "WER": "keep", "EER": "keep"},
        "语音识别、语音合成、说话人识别与验证、语音增强与分离、音乐与音频生成、音频理解",
        "HuBERT、LibriSpeech、WER、EER"),
}
FIELDS["eess.AS"] = FIELDS["cs.SD"]


@dataclass(frozen=True)
class SiteSpec:
    """The site's identity: what `digest new` asks for."""

    title: str
    categories: list[str]
    description: str = ""
    field_name: str = ""

    def starter(self) -> Field:
        known = next((FIELDS[c] for c in self.categories if c in FIELDS), None)
        return known or Field(f"arXiv {self.categories[0]} 领域", _topics())

    def name_of_field(self) -> str:
        return self.field_name or self.starter().name


@dataclass(frozen=True)
class NewSite:
    """What was written, for the CLI to report."""

    path: Path
    files: int


def check_spec(spec: SiteSpec) -> None:
    """Options that would make a broken site, refused before anything is written."""
    if not spec.categories:
        raise NewSiteError("give at least one arXiv category (--categories cs.CL)")
    for category in spec.categories:
        if not CATEGORY.fullmatch(category):
            raise NewSiteError(f"{category!r} is not an arXiv category such as cs.CL or "
                               "eess.AS")
    for name, text in (("title", spec.title), ("description", spec.description),
                       ("field name", spec.field_name)):
        if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in text):
            raise NewSiteError(f"the {name} must be one line of text without control "
                               "characters")
    if not spec.title.strip():
        raise NewSiteError("the title is empty (--title)")


def new_site(path: Path, spec: SiteSpec, template: Path = TEMPLATE) -> NewSite:
    """Write a new site repository at `path` (absent or an empty folder). It is built in a
    temporary folder beside it and moved into place, so a failure leaves nothing half made."""
    check_spec(spec)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise NewSiteError("is in the way: give a new folder or an empty one", path=path)
    if not (template / "_config.yml").is_file() or not (
            template / ".github" / "workflows" / "daily.yml").is_file():
        raise NewSiteError("no site template beside the installed package: install digest "
                           "from a checkout (pip install -e .) and run `digest new` there",
                           path=template)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        count = _write(work, spec, template)
        if path.exists():
            path.rmdir()
        os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return NewSite(path, count)


def _write(site: Path, spec: SiteSpec, template: Path) -> int:
    names = [n for n in template_files(template) if not n.startswith(LEFT_OUT)]
    for name in names:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(template / name, site / name, follow_symlinks=False)
    written = {
        "pyproject.toml": site_pyproject((template / "pyproject.toml").read_text("utf-8"), spec),
        "_config.yml": site_config((template / "_config.yml").read_text("utf-8"), spec),
        TOPICS_FILE: topics_yaml(spec),
        GLOSSARY_FILE: glossary_yaml(spec),
        "README.md": readme(spec),
        "data/.gitkeep": "",
        "_posts/.gitkeep": "",
    }
    for name, text in written.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    return len(set(names) | set(written))


def template_files(template: Path) -> list[str]:
    """The template's files: what git tracks there, or else the files of the site's own
    top-level entries (`SITE_ENTRIES`); regular files only, never a symbolic link."""
    try:
        listed = subprocess.run(["git", "-C", str(template), "ls-files", "-z"],
                                capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        listed = b""
    names = [n for n in listed.decode("utf-8", "replace").split("\0") if n]
    if not names:
        names = sorted(p.relative_to(template).as_posix() for p in template.rglob("*")
                       if p.relative_to(template).parts[0] in SITE_ENTRIES
                       and not set(p.relative_to(template).parts) & set(UNTRACKED))
    return [n for n in names if _plain_file(template, n)]


def _plain_file(template: Path, name: str) -> bool:
    """A regular file of the template itself: a symbolic link anywhere on its path (which
    could point at a key or a file outside) is never copied into a new site."""
    path = template / name
    parents = [template / Path(*Path(name).parts[:i]) for i in range(1, len(Path(name).parts))]
    return path.is_file() and not path.is_symlink() and not any(p.is_symlink() for p in parents)


def _quoted(text: str) -> str:
    """A TOML and YAML double-quoted string (JSON's escapes are valid in both)."""
    return json.dumps(text, ensure_ascii=False)


def site_pyproject(text: str, spec: SiteSpec) -> str:
    """The template's pyproject.toml (it installs the tool) with the site's [tool.digest]."""
    start = text.find("[tool.digest]")
    head = text if start < 0 else text[:start]
    head = re.sub(r"(\n#[^\n]*)+\n?$", "\n", head.rstrip("\n") + "\n")  # its comment too
    tags = ["arxiv", *spec.categories]
    lines = [
        "# The site's own settings (docs/settings.md lists every one). Its identity: the",
        "# categories and tags here, the title and description in _config.yml, the topics",
        f"# in {TOPICS_FILE}, the glossary in {GLOSSARY_FILE}.",
        "[tool.digest]",
        f"categories = [{', '.join(_quoted(c) for c in spec.categories)}]",
        f"tags = [{', '.join(_quoted(t) for t in tags)}]",
        f"field_name = {_quoted(spec.name_of_field())}",
        f"field_examples = {_quoted(spec.starter().examples if not spec.field_name else '')}",
        f"field_terms = {_quoted(spec.starter().terms)}",
        f"topics_file = {_quoted(TOPICS_FILE)}",
        f"glossary_file = {_quoted(GLOSSARY_FILE)}",
    ]
    return head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


def site_config(text: str, spec: SiteSpec) -> str:
    """The template's _config.yml with the site's title and description; topics.yaml is
    kept out of the published site like the glossary."""
    description = spec.description or (
        f"每日 arXiv {' / '.join(spec.categories)} 新论文的中文译文与详细解读，经人工审校后发布。")
    text = re.sub(r"(?m)^title:.*$", lambda _: f"title: {_quoted(spec.title)}", text, count=1)
    text = re.sub(r"(?m)^description:.*$", lambda _: f"description: {_quoted(description)}",
                  text, count=1)
    if f"  - {TOPICS_FILE}" not in text:
        text = text.replace(f"  - {GLOSSARY_FILE}\n",
                            f"  - {GLOSSARY_FILE}\n  - {TOPICS_FILE}\n", 1)
    return text


def topics_yaml(spec: SiteSpec) -> str:
    """The site's topics: the slug in records and URLs, the names readers see."""
    rows = ["# The site's topics (setting `topics_file`, docs/records.md). The LLM picks 1 to",
            "# `max_per_paper` slugs per paper; readers see `zh`, `en` helps the LLM choose;",
            "# each topic gets a page. `other` catches the rest. A slug (lower-case letters,",
            "# digits, hyphens) used in records cannot be renamed without editing them.",
            "max_per_paper: 3", "topics:"]
    for topic in spec.starter().topics:
        rows.append(f"  - {{slug: {topic.slug}, zh: {_quoted(topic.zh)}, "
                    f"en: {_quoted(topic.en)}}}")
    return "\n".join(rows) + "\n"


def glossary_yaml(spec: SiteSpec) -> str:
    rows = ["# Terms for the LLM prompts: English term -> Chinese, or `keep` to keep the",
            "# English (setting `glossary_file`). Editors: add a term when a translation keeps",
            "# getting it wrong; `digest glossary suggest` proposes some from their edits.", ""]
    rows += [f"{_quoted(term)}: {_quoted(zh)}" for term, zh in spec.starter().glossary.items()]
    if not spec.starter().glossary:
        rows.append("{}")
    return "\n".join(rows) + "\n"


def readme(spec: SiteSpec) -> str:
    return (f"# {spec.title}\n\n"
            f"A daily, human-reviewed Chinese digest of new arXiv papers in "
            f"{', '.join(spec.categories)}, made with `digest new`.\n\n"
            "Each day `.github/workflows/daily.yml` opens a pull request with the day's post; "
            "editors correct it, and merging publishes it through `pages.yml`. "
            "`digest doctor` checks the repository's set-up on GitHub.\n")


def next_steps(site: NewSite) -> list[str]:
    """What the owner does on GitHub next, in order; `digest doctor` checks each."""
    return [
        f"cd {site.path} && git init -b main && git add . && git commit -m 'A new digest site'",
        "create an empty repository OWNER/SITE on GitHub, then: git remote add origin "
        "git@github.com:OWNER/SITE.git && git push -u origin main",
        "Settings > Secrets and variables > Actions > New repository secret: "
        "DIGEST_LLM_API_KEY = the LLM service's API key",
        "Settings > Actions > General > Workflow permissions: tick \"Allow GitHub Actions to "
        "create and approve pull requests\"",
        "Settings > Pages > Build and deployment > Source: GitHub Actions",
        "GITHUB_TOKEN=$(gh auth token) digest doctor   # checks each step above, one line each",
    ]
