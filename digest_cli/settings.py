"""Settings, built in one place.

Layers, later wins: the defaults below, then `[tool.digest]` in the site repository's
`pyproject.toml`, then `DIGEST_*` environment variables (plus the `GITHUB_*` ones that
GitHub Actions sets), then command-line flags. Stages receive a `Settings`; they never
read the environment themselves.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, time
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest_cli.confine import (
    check_front_matter,
    check_paths,
    check_post_filename,
    check_text,
    inside,
    plain_name,
)
from digest_cli.errors import SettingsError
from digest_cli.fetch.schedule import DEFAULT_HOLIDAYS
from digest_cli.records.topics import Topics, load_topics
from digest_cli.redact import mask_url, url_secrets
from digest_cli.setting_values import bound_text, check_bound, convert

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def _setting(default: Any, doc: str, *, secret: bool = False, env: str | None = None,
             at_least: float | None = None, above: float | None = None) -> Any:
    """A dataclass field with its documentation (docs/settings.md is checked against it)
    and, for a number, its lower bound: `at_least` (inclusive) or `above` (exclusive)."""
    meta = {"doc": doc, "secret": secret, "env": env, "at_least": at_least, "above": above}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta,
                     repr=not secret)
    return field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Each field's metadata carries its documentation."""

    root: Path = _setting(Path("."), "The site repository the commands work in (`--root`).")
    # What to fetch
    categories: list[str] = _setting(["cs.SD", "eess.AS"], "arXiv categories to follow.")
    primary_only: bool = _setting(False, "Keep only papers whose primary category is followed "
                                  "(default: cross-lists are included).")
    include_replacements: bool = _setting(False, "Show replacements (v2, v3, ...) of papers "
                                          "already published, marked as updated.")
    max_papers: int = _setting(0, "Show at most this many papers a day (0: no limit). Papers "
                               "left out are named in the post header and the manifest.",
                               at_least=0)
    lookback_days: int = _setting(14, "How many days of submissions to query: long enough for "
                                  "a weekend plus a holiday plus moderation delays.", at_least=1)
    holidays: list[date] = _setting([], "Extra dates (YYYY-MM-DD, US Eastern) on which arXiv "
                                    "makes no announcement; arXiv's 2025 and 2026 holidays are "
                                    "built in.")
    # The daily window
    timezone: str = _setting("Asia/Shanghai", "Time zone of the daily window and the post date.")
    anchor: time = _setting(time(8, 50), "Time of day (HH:MM, in `timezone`) at which each "
                            "24 h window ends.")
    zone_label: str = _setting("CST", "Short name of `timezone` shown in the post header.")
    zone_name: str = _setting("北京时间", "Long name of `timezone` shown in the post header.")
    # Files
    data_dir: str = _setting("data", "Folder of the YAML records, one sub-folder per day.")
    posts_dir: str = _setting("_posts", "Folder of the Jekyll posts.")
    cache_dir: str = _setting(".digest-cache", "Folder for raw API responses, PDFs and LLM "
                              "answers (git-ignored).")
    preview_dir: str = _setting("_preview", "Folder where `digest preview` writes HTML.")
    post_filename: str = _setting("{date}-arxiv.md", "Post file name; `{date}` is YYYY-MM-DD.")
    title: str = _setting("arXiv Daily – {date}", "Post title; `{date}` is YYYY-MM-DD.")
    tags: list[str] = _setting(["arxiv", "cs.SD", "eess.AS"], "Tags in the post front matter.")
    layout: str = _setting("post", "Jekyll layout of the posts.")
    post_format: str = _setting("digest", "`digest`: contents list, an anchor per paper from "
                                "its arXiv id, arXiv comments, labelled 详细解读; `classic`: "
                                "exactly the old blog's post format (docs/site.md).")
    highlight: list[str] = _setting([], "Editors' keywords: papers whose title, Chinese title "
                                    "or summary contains one (any case) are marked and listed "
                                    "first in the contents.")
    site_url: str = _setting("", "The site's public address (https://OWNER.github.io/REPO): "
                             "canonical URLs, Open Graph and absolute feed ids. The Pages "
                             "workflow passes the URL `configure-pages` gives.")
    glossary_file: str = _setting("glossary.yaml", "Glossary (English term: Chinese, or "
                                  "`keep`) that goes into every prompt.")
    # The site's domain (docs/records.md, docs/llm.md)
    topics_file: str = _setting("", "The site's topics (a YAML file: docs/records.md); empty: "
                                "the speech and audio topics shipped with digest.")
    prompts_dir: str = _setting("prompts", "Folder of the site's own prompts: a `<kind>.md` "
                                "there (e.g. `translation.md`) replaces the shipped one.")
    field_name: str = _setting("语音与音频领域", "The site's field, as the prompts name it.")
    field_examples: str = _setting("语音识别、语音合成、说话人识别与验证、语音增强与分离、"
                                   "音乐与音频生成、音频理解", "Sub-fields the prompts give as "
                                   "examples after `field_name` (empty: none).")
    field_terms: str = _setting("HuBERT、LibriSpeech、WER、EER", "Names of models, data sets "
                                "and metrics the prompts give as examples of words kept in "
                                "English.")
    text_kinds: list[str] = _setting([], "Python modules of the site that declare more text "
                                     "kinds (`site_kinds` for a `site_kinds.py` at the root), "
                                     "imported before a command runs (docs/layout.md).")
    # arXiv API
    arxiv_api_url: str = _setting("https://export.arxiv.org/api/query", "arXiv API endpoint.")
    arxiv_page_size: int = _setting(200, "Results per API request.", at_least=1)
    arxiv_delay: float = _setting(3.0, "Seconds between API requests (arXiv asks for 3).",
                                  at_least=0)
    arxiv_timeout: float = _setting(30.0, "Seconds an API request may take in all (connecting, "
                                  "waiting and reading the whole answer).", above=0)
    arxiv_retries: int = _setting(5, "Retries of a failed API request (429, 503, timeouts, "
                                  "empty pages).", at_least=0)
    arxiv_cache_ttl: float = _setting(3600.0, "Seconds a cached API answer is reused by an "
                                      "online fetch (0: always ask arXiv; `--offline` replays "
                                      "the cache whatever its age).", at_least=0)
    # LLM
    llm_base_url: str = _setting("https://api.deepseek.com", "OpenAI-compatible API base URL.")
    llm_model: str = _setting("deepseek-chat", "Model for the abstract translation and the "
                              "brief.")
    llm_analysis_model: str = _setting("", "Model for the 详细解读 (default: `llm_model`).")
    llm_api_key_env: str = _setting("DIGEST_LLM_API_KEY", "Name of the environment variable "
                                    "holding the API key (e.g. DEEPSEEK_API_KEY).")
    llm_api_key: str = _setting("", "The API key, read from `llm_api_key_env`; never logged.",
                                secret=True)
    llm_temperature: float = _setting(0.3, "Sampling temperature.", at_least=0)
    llm_concurrency: int = _setting(8, "Most LLM requests in flight at once (lowered on 429).",
                                    at_least=1)
    llm_timeout: float = _setting(180.0, "Seconds an LLM request may take in all, "
                                  "answer included.", above=0)
    llm_retries: int = _setting(4, "Retries of a failed LLM request (429, 5xx, timeouts).",
                                at_least=0)
    llm_repair_attempts: int = _setting(2, "Repair prompts sent after an invalid answer.",
                                        at_least=0)
    llm_brief: bool = _setting(True, "Ask for each paper's Chinese title, one-sentence summary "
                               "and topics (one short extra request per paper; docs/llm.md).")
    llm_backoff: float = _setting(2.0, "Seconds before the first retry of a failed LLM "
                                  "request; doubled for each further retry (a 429's "
                                  "Retry-After wins).", at_least=0)
    price_input_per_mtok: float = _setting(0.27, "Price per million input tokens (for the "
                                           "cost estimate).", at_least=0)
    price_output_per_mtok: float = _setting(1.10, "Price per million output tokens.", at_least=0)
    pdf_url_template: str = _setting("https://arxiv.org/pdf/{id}v{version}", "Where PDFs are "
                                     "downloaded from; `{id}` and `{version}` are filled in.")
    fulltext_token_budget: int = _setting(12000, "Most tokens of full text sent for a 详细解读.",
                                          at_least=1)
    pdf_timeout: float = _setting(60.0, "Seconds a PDF download may take in all.", above=0)
    pdf_concurrency: int = _setting(4, "Most PDF downloads at once (arXiv asks for restraint).",
                                    at_least=1)
    # Git and GitHub
    github_api_url: str = _setting("https://api.github.com", "GitHub REST API URL.",
                                   env="GITHUB_API_URL")
    github_repository: str = _setting("", "owner/name of the site repository.",
                                      env="GITHUB_REPOSITORY")
    github_token: str = _setting("", "Token for the GitHub API; never logged.", secret=True,
                                 env="GITHUB_TOKEN")
    remote: str = _setting("origin", "Git remote to push to.")
    base_branch: str = _setting("", "Branch the pull requests target (default: the remote's "
                                "default branch).")
    branch_prefix: str = _setting("digest/", "Prefix of the daily branch.")
    pr_labels: list[str] = _setting(["digest"], "Labels put on the daily pull request.")
    git_author_name: str = _setting("github-actions[bot]", "Commit author name.")
    git_author_email: str = _setting(
        "41898282+github-actions[bot]@users.noreply.github.com", "Commit author e-mail.")
    github_timeout: float = _setting(30.0, "Seconds a GitHub API request may take "
                                    "in all.", above=0)
    github_retries: int = _setting(2, "Retries of a GitHub API request that failed with 5xx "
                                   "or no answer.", at_least=0)
    github_retry_delay: float = _setting(1.0, "Seconds before the first GitHub API retry "
                                         "(doubled for each further retry; a Retry-After "
                                         "wins).", at_least=0)
    github_step_summary: str = _setting("", "File the Markdown job summary is appended to "
                                        "(GitHub Actions sets it); empty: none is written.",
                                        env="GITHUB_STEP_SUMMARY")
    annotations: bool = _setting(False, "Print GitHub Actions annotations (`::error`, "
                                 "`::notice`) in `digest check` and `digest sync`; on when "
                                 "GitHub Actions runs the command (`--annotations` / "
                                 "`--no-annotations` override it).", env="GITHUB_ACTIONS")

    # Derived paths, checked on every use: a symlink can appear at any time (a preview
    # runs for hours). Only the repository root is resolved once: it does not move.
    @functools.cached_property
    def _real_root(self) -> Path:
        return self.root.resolve()

    def _inside(self, path: Path, what: str) -> Path:
        return inside(self.root, path, what, self._real_root)

    def _child(self, folder: Path, name: str, what: str) -> Path:
        """`folder / name`, `folder` just checked: a plain name that is no symlink stays
        inside it, so only a symlink (or an odd name) is resolved again."""
        path = folder / name
        if not plain_name(name) or os.path.islink(path):
            return self._inside(path, what)
        return path

    @property
    def data_path(self) -> Path:
        return self._inside(self.root / self.data_dir, "setting 'data_dir'")

    @property
    def posts_path(self) -> Path:
        return self._inside(self.root / self.posts_dir, "setting 'posts_dir'")

    @property
    def cache_path(self) -> Path:
        return self.root / self.cache_dir

    def post_path(self, day: date) -> Path:
        return self._child(self.posts_path, self.post_filename.format(date=day.isoformat()),
                           f"the post of {day}")

    def day_path(self, day: date) -> Path:
        return self._child(self.data_path, day.isoformat(), f"the folder of {day}")

    @functools.cached_property
    def topics(self) -> Topics:
        """The site's topics: `topics_file`, or the shipped default."""
        if not self.topics_file:
            return load_topics(None)
        return load_topics(self._inside(self.root / self.topics_file, "setting 'topics_file'"))

    @property
    def prompts_path(self) -> Path:
        return self._inside(self.root / self.prompts_dir, "setting 'prompts_dir'")

    @property
    def prompt_words(self) -> dict[str, str]:
        """The domain words the prompts' placeholders take (`{{field}}`)."""
        examples = f"（{self.field_examples}等）" if self.field_examples else ""
        return {"field": self.field_name + examples, "field_terms": self.field_terms}

    @property
    def analysis_model(self) -> str:
        return self.llm_analysis_model or self.llm_model

    def all_holidays(self) -> tuple[date, ...]:
        return tuple(sorted(set(DEFAULT_HOLIDAYS) | set(self.holidays)))

    @property
    def secrets(self) -> list[str]:
        """The secret values set, and the credentials in URL settings (user:password@,
        query values), for `errors.scrub` to take out of any message."""
        found = [getattr(self, f.name) for f in fields(self)
                 if f.metadata.get("secret") and getattr(self, f.name)]
        for f in fields(self):
            if f.name.endswith(("_url", "_template")):
                found += url_secrets(getattr(self, f.name))
        return found

    def describe(self) -> dict[str, Any]:
        """Settings as plain values, secrets masked: safe to print or log."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret"):
                value = "***" if value else ""
            elif f.name.endswith(("_url", "_template")):
                value = mask_url(value)  # credentials in a URL are secrets too
            out[f.name] = value
        return out


POST_FORMATS = ("digest", "classic")  # docs/site.md; render.py's CLASSIC is the second
SETTING_NAMES = tuple(f.name for f in fields(Settings))
_FIELDS = {f.name: f for f in fields(Settings)}


def env_name(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("env") or "DIGEST_" + f.name.upper()


def load_settings(
    root: Path | str = ".",
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings: defaults < pyproject.toml < environment < flags."""
    environ = os.environ if environ is None else environ
    root = Path(root)
    values: dict[str, Any] = {}
    values.update(_from_pyproject(root / "pyproject.toml"))
    values.update(_from_environ(environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    values["root"] = root
    key_env = values.get("llm_api_key_env", _FIELDS["llm_api_key_env"].default)
    if "llm_api_key" not in values and environ.get(key_env):
        values["llm_api_key"] = environ[key_env].strip()  # as sent, so as scrubbed
    settings = Settings(**{name: _coerce(name, value, "flag") for name, value in values.items()})
    _check_values(settings)
    return settings


def _check_values(settings: Settings) -> None:
    """Values that would otherwise fail deep inside a stage, with a traceback."""
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"setting 'timezone': unknown time zone {settings.timezone!r} "
                            "(an IANA name such as 'Asia/Shanghai')") from None
    if settings.post_format not in POST_FORMATS:
        raise SettingsError(f"setting 'post_format': {settings.post_format!r} is not "
                            "'digest' or 'classic'")
    for name in ("title", "post_filename"):
        try:
            getattr(settings, name).format(date="2026-01-28")
        except (KeyError, IndexError, AttributeError, ValueError) as exc:
            raise SettingsError(f"setting {name!r}: {getattr(settings, name)!r} is not a "
                                f"template with only `{{date}}` in it ({exc!r})") from None
    for f in fields(settings):
        check_text(f.name, getattr(settings, f.name), secret=f.metadata.get("secret", False))
        check_bound(f, getattr(settings, f.name))
    check_front_matter(settings)
    check_paths(settings)
    check_post_filename(settings.post_filename)
    if settings.topics_file:
        _ = settings.topics  # a bad topics file is one line now, not deep inside a stage


def _from_pyproject(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"not valid TOML: {exc}", path=path) from None
    table: dict[str, Any] = doc.get("tool", {}).get("digest", {})
    for name, value in table.items():
        if name not in _FIELDS or name == "root" or _FIELDS[name].metadata.get("secret"):
            raise SettingsError(f"unknown setting [tool.digest] {name!r} "
                                "(see docs/settings.md)", path=path)
        table[name] = _coerce(name, value, f"{path} [tool.digest]")
    return table


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for f in fields(Settings):
        name = env_name(f)
        if f.name != "root" and environ.get(name, "") != "":
            values[f.name] = _coerce(f.name, environ[name], f"environment variable {name}")
    return values


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a TOML, environment or flag value into the field's type, or say what is wrong."""
    default = _default_of(_FIELDS[name])
    if _FIELDS[name].metadata.get("secret") and isinstance(value, str):
        value = value.strip()  # a key pasted with its line break: strip before use and scrub
    try:
        return convert(value, default, name)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r} from {source}: {exc}") from None


def _default_of(f: dataclasses.Field[Any]) -> Any:
    """A field's default value, made by its factory for lists and dicts."""
    if f.default is not dataclasses.MISSING:
        return f.default
    return cast(Callable[[], Any], f.default_factory)()


def setting_sources(root: Path | str = ".",
                    environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where each setting comes from, as load_settings layers them (flags aside)."""
    environ = os.environ if environ is None else environ
    sources = dict.fromkeys(SETTING_NAMES, "default") | {"root": "--root"}
    sources |= dict.fromkeys(_from_pyproject(Path(root) / "pyproject.toml"),
                             "pyproject.toml [tool.digest]")
    sources |= {name: f"environment {env_name(_FIELDS[name])}" for name in _from_environ(environ)}
    key_env = load_settings(root, environ).llm_api_key_env
    if sources["llm_api_key"] == "default" and environ.get(key_env):
        sources["llm_api_key"] = f"environment {key_env}"
    return sources


def settings_reference() -> str:
    """The settings table in Markdown (docs/settings.md embeds it)."""
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for f in fields(Settings):
        if f.name == "root":
            continue
        default = _default_of(f)
        if isinstance(default, time):
            default = default.strftime("%H:%M")
        shown = "" if f.metadata.get("secret") else repr(default)
        bound = f" ({bound_text(f).capitalize()}.)" if bound_text(f) else ""
        rows.append(f"| `{f.name}` | `{env_name(f)}` | `{shown}` | {f.metadata['doc']}{bound} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # regenerate the table in docs/settings.md
    print(settings_reference(), end="")
