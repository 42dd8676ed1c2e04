"""Settings that end up in files or paths, checked before anything is written.

A line break in `layout` or a tag would inject front matter; `post_filename = "../x"` or a
symlinked folder would write outside the repository, and `x.md` every day over one file.
Checked once, when settings load, and again for each day's folder and post (a symlink can
appear at any time).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import SettingsError
from digest_cli.hygiene import short
from digest_cli.redact import mask_url

if TYPE_CHECKING:
    from digest_cli.settings import Settings

# Folder and file settings resolved against the repository.
PATH_SETTINGS = ("data_dir", "posts_dir", "cache_dir", "preview_dir", "glossary_file")
# One YAML flow item: no `,`, `[`, `]`, `:` or quotes, and a word character first (a `#`
# there starts a comment, a `-`, `.`, `+` an indicator or a number).
_TAG = re.compile(r"\w[\w.+#-]*")
_LAYOUT = re.compile(r"[\w.-]+")
_LIQUID = re.compile(r"\{[{%]|[%}]\}|[<>]")  # text the post header shows as is


def _bad_char(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return f"U+{ord(ch):04X}"
    return None


def shown_value(name: str, value: str, *, secret: bool = False) -> str:
    """How an error may show a setting's bad value: a secret never, a URL or template
    with its credentials masked (escaped first, so a tab or line break in a password
    cannot end the mask early), any other value as its repr."""
    if secret:
        return "(the value is secret, not shown)"
    if name.endswith(("_url", "_template")):
        return "'" + mask_url(repr(value)[1:-1]) + "'"
    return repr(value)


def check_text(name: str, value: object, *, secret: bool = False) -> None:
    """A text setting holds no line break or control character (it goes into files)."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and (bad := _bad_char(item)):
            raise SettingsError(f"setting {name!r}: {shown_value(name, item, secret=secret)} "
                                f"holds a line break or control character ({bad}); settings "
                                "are written on one line")


def check_front_matter(settings: Settings) -> None:
    """layout, tags and the header texts cannot change the post's structure."""
    if not _LAYOUT.fullmatch(settings.layout):
        raise SettingsError(f"setting 'layout': {settings.layout!r} is not a layout name "
                            "(letters, digits, `_`, `-`, `.`)")
    for tag in settings.tags:
        if not _TAG.fullmatch(tag):
            raise SettingsError(f"setting 'tags': {tag!r} is not a tag (a letter, digit or `_`, "
                                "then also `-`, `.`, `+`, `#`; no spaces, commas or brackets)")
    for name in ("zone_label", "zone_name"):
        if _LIQUID.search(getattr(settings, name)):
            raise SettingsError(f"setting {name!r}: {getattr(settings, name)!r} holds "
                                "Liquid or HTML markup; it is shown in every post")


def inside(root: Path, path: Path, what: str, real_root: Path | None = None) -> Path:
    """`path` itself, after checking that it resolves (symlinks followed) inside `root`
    (`real_root`: `root` already resolved)."""
    top = real_root or root.resolve()
    if not path.resolve().is_relative_to(top):
        raise SettingsError(f"{what}: {path} resolves to {path.resolve()}, outside the "
                            f"repository {top}; it must stay inside it")
    return path


def plain_name(name: str) -> bool:
    """True for a file name that stays in its folder: no separator, not `.` or `..`."""
    return "/" not in name and "\\" not in name and name not in (".", "..") and bool(name.strip())


def check_paths(settings: Settings) -> None:
    """Every folder and file setting, and the post file name, stays inside the root."""
    for name in PATH_SETTINGS:
        inside(settings.root, settings.root / getattr(settings, name), f"setting {name!r}")
    if not plain_name(settings.post_filename.format(date="2026-01-28")):
        raise SettingsError(f"setting 'post_filename': {settings.post_filename!r} must be a "
                            "file name (no folders), such as '{date}-arxiv.md'")


def require_site(settings: Settings) -> None:
    """Refuse to work in a folder that is not a site (one holding the records folder, the
    posts folder or Jekyll's _config.yml): `check` there would find "no problems" and
    `render` nothing to do, which reads like success, and `fetch`, `run` or `import` would
    create data/ in whatever folder they were started in."""
    root = settings.root
    markers = (settings.data_path, settings.posts_path, root / "_config.yml")
    if not any(path.exists() for path in markers):
        raise SettingsError(f"{root.resolve()} is not a digest site (no {settings.data_dir}/, "
                            f"{settings.posts_dir}/ or _config.yml): run in the site "
                            "repository, or give --root")


def check_post_filename(template: str) -> None:
    """A post name that changes with the date, as Jekyll wants it: `YYYY-MM-DD-title.ext`
    (`x.md` would write every day over one file and report each as rendered)."""
    name = template.format(date="2026-01-28")
    if name == template.format(date="2026-01-29") or not name.startswith("2026-01-28-") \
            or "." not in name[len("2026-01-28-"):]:
        raise SettingsError(f"setting 'post_filename': {short(template)} must start with "
                            "`{date}-` and end in an extension, e.g. '{date}-arxiv.md' "
                            "(Jekyll reads only posts named YYYY-MM-DD-title.md, and a name "
                            "without the date would hold every day)")
