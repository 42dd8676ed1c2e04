"""The `digest` command: a thin layer that parses options, calls the stages, and turns
their errors into one line and exit status 1.

Heavy libraries (ruamel.yaml, mistune, openai, git, arxiv, pypdf) are imported inside the
commands, so `digest --help` stays fast.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

from digest_cli import __version__
from digest_cli.errors import DigestError

log = logging.getLogger("digest")


class DigestGroup(click.Group):
    """Turns a `DigestError` into `Error: <one line>` and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            stage = f" ({exc.stage})" if exc.stage else ""
            click.echo(f"Error{stage}: {exc}", err=True)
            ctx.exit(1)

    def list_commands(self, ctx):  # in the order a day flows, not alphabetical
        return list(self.commands)


class Context:
    """What every command needs: the site root and the flags that override settings."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._settings = None

    def settings(self, **overrides):
        from digest_cli.settings import load_settings

        return load_settings(self.root, overrides=overrides)


pass_ctx = click.make_pass_decorator(Context)
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value) -> date | None:
    return value.date() if value is not None else None


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The site repository (holds data/ and _posts/).")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
@click.pass_context
def cli(ctx: click.Context, root: Path, verbose: bool) -> None:
    """Publish a daily, human-reviewed, Chinese digest of new arXiv papers as a Jekyll blog.

    A day flows: fetch -> translate -> render -> publish (`digest run` does all four).
    The YAML records under data/ are the source of truth; posts are rendered from them.
    Settings: defaults, then [tool.digest] in pyproject.toml, then DIGEST_* environment
    variables, then flags (see docs/settings.md).
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a folder", param_hint="--root")
    ctx.obj = Context(root)


@cli.command("import")
@click.argument("posts", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_cmd(ctx: Context, posts: tuple[Path, ...]) -> None:
    """Read posts (YYYY-MM-DD-arxiv.md) into records and a day manifest.

    Used to migrate the old blog, and to take edits made in a post back into the records:
    a changed text keeps its provenance but no longer matches its hash, so it counts as
    an editor's and no later run rewrites it. Fields a post does not show are kept.
    """
    from digest_cli.importer import import_post
    from digest_cli.store import load_day, write_day
    from digest_cli.writer import Writer

    settings = ctx.settings()
    parsed = []
    for post in posts:  # parse every post before writing anything
        manifest_path = settings.day_path(_date_of(post)) / "manifest.yaml"
        existing = load_day(settings, _date_of(post)) if manifest_path.is_file() else None
        parsed.append((post, *import_post(post, settings, existing)))
    writer = Writer()
    for post, day, changes in parsed:
        write_day(settings, day, writer)
        click.echo(f"{post}: {day.manifest.shown} papers -> "
                   f"{settings.day_path(day.manifest.date)} ({len(changes)} changed)")


def _date_of(post: Path) -> date:
    from digest_cli.importer import _post_date

    return _post_date(post, [])


@cli.command()
@click.option("--date", "day", type=DATE, help="Render the post of this day (YYYY-MM-DD).")
@click.option("--all", "all_days", is_flag=True, help="Render every day under data/ "
              "(the default when no --date is given).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each post that "
              "differs from what its records render to.")
@pass_ctx
def render(ctx: Context, day, all_days: bool, check: bool) -> None:
    """Render posts (_posts/YYYY-MM-DD-arxiv.md) from the records."""
    from digest_cli.render import render_days, stale_posts
    from digest_cli.store import day_dates
    from digest_cli.writer import Writer

    settings = ctx.settings()
    if day is not None and all_days:
        raise click.UsageError("give --date or --all, not both")
    days = [_day(day)] if day is not None else day_dates(settings)
    if check:
        stale = stale_posts(settings, days)
        for d, why in stale:
            click.echo(f"{settings.post_path(d)}: {why} (run `digest render --date {d}`)")
        if stale:
            sys.exit(1)
        click.echo(f"{len(days)} posts match their records")
        return
    results = render_days(settings, days, Writer())
    changed = [d for d, was_changed in results if was_changed]
    for d in changed:
        click.echo(f"wrote {settings.post_path(d)}")
    click.echo(f"{len(results)} posts rendered, {len(changed)} changed")


@cli.command()
@click.option("--date", "day", type=DATE, required=True, help="The day to preview.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@pass_ctx
def preview(ctx: Context, day, open_browser: bool) -> None:
    """Write a standalone HTML preview of a day and print its path."""
    from digest_cli.preview import render_preview
    from digest_cli.store import load_day
    from digest_cli.writer import Writer

    settings = ctx.settings()
    page = render_preview(load_day(settings, _day(day)), settings)
    path = settings.root / settings.preview_dir / f"{_day(day).isoformat()}.html"
    Writer().write(path, page)
    click.echo(str(path))
    if open_browser:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


@cli.command("settings")
@pass_ctx
def settings_cmd(ctx: Context) -> None:
    """Print the settings in effect (secrets masked) and where each can be set."""
    for name, value in ctx.settings().describe().items():
        click.echo(f"{name} = {value!r}")


def main() -> None:
    cli(prog_name="digest")
