"""The `digest` command: a thin layer that parses options, calls the stages, and turns
their errors into one line and exit status 1.

The stages are imported inside the commands, and with them the heavy libraries (ruamel.yaml,
mistune, rich, openai, httpx, git, arxiv, pypdf): `digest --help` loads none of them. (With
every stage imported at the top, `--help` took 0.41 s instead of 0.14 s, best of 10, over
the 2.5x-of-click budget of benchmarks/bench_render.py.)
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from digest_cli import __version__
from digest_cli.errors import DigestError
from digest_cli.hygiene import for_terminal

if TYPE_CHECKING:
    from rich.progress import Progress

    from digest_cli.records.writer import Writer
    from digest_cli.settings import Settings

log = logging.getLogger("digest")
F = TypeVar("F", bound=Callable[..., Any])


class DigestGroup(click.Group):
    """Turns a `DigestError` into `Error: <one line>` and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            stage = f" ({exc.stage})" if exc.stage else ""
            click.echo(f"Error{stage}: {for_terminal(_scrubbed(ctx, str(exc)))}", err=True)
            ctx.exit(1)
        except OSError as exc:
            if exc.filename is None:
                raise  # not about a file: a bug, keep the traceback
            click.echo(f"Error: {exc.filename}: {exc.strerror}", err=True)  # a full disk
            ctx.exit(1)

    ORDER = ("run", "fetch", "translate", "shards", "render", "publish", "review", "sync", "check",
             "preview", "import", "records", "glossary", "settings")

    def list_commands(self, ctx: click.Context) -> list[str]:  # in the order a day flows
        return sorted(self.commands, key=lambda name: (
            self.ORDER.index(name) if name in self.ORDER else len(self.ORDER), name))


def _scrubbed(ctx: click.Context, text: str) -> str:
    """`text` without the secrets of the settings in effect, and without credentials in
    URLs even when the settings failed to load: the last line of defence."""
    from digest_cli.errors import scrub

    loaded = getattr(ctx.obj, "loaded", None)
    return scrub(text, loaded.secrets if loaded is not None else [])


class Context:
    """What every command needs: the site root, and settings with the flags layered on top."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: Settings | None = None  # the settings the command runs with

    def settings(self, **flags: Any) -> Settings:
        """defaults < pyproject.toml < environment < `flags` (None: the flag was not given)."""
        from digest_cli.kinds import load_modules
        from digest_cli.redact import scrub_logs
        from digest_cli.settings import load_settings

        self.loaded = load_settings(self.root, overrides=flags)
        scrub_logs(self.loaded.secrets)  # httpx and git log whole URLs
        load_modules(self.loaded.text_kinds, self.loaded.root)  # the site's own text kinds
        return self.loaded


pass_ctx = click.make_pass_decorator(Context)


def writes(command: F) -> F:
    """A command that writes into the site: refused outside a site (`fetch` or `run` would
    otherwise create data/ in any folder), and run holding the repository's lock, one
    writing run per repository."""

    @functools.wraps(command)
    def locked(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        from digest_cli.confine import require_site
        from digest_cli.lock import repo_lock

        name = click.get_current_context().command_path
        settings = ctx.settings()
        require_site(settings)
        with repo_lock(settings.root, name):
            return command(ctx, *args, **kwargs)

    return locked  # type: ignore[return-value]


class _Date(click.DateTime):
    """YYYY-MM-DD between arXiv's first year and 2999: a window of 0001-01-01 would
    overflow the date arithmetic."""

    name = "date"
    FIRST, LAST = date(1991, 1, 1), date(2999, 12, 31)

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        import re

        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:  # the right form but no such day: say so, not "does not match the format"
                date.fromisoformat(value)
            except ValueError as exc:
                self.fail(f"{value} is not a date: {exc}", param, ctx)
        moment = super().convert(value, param, ctx)
        if not self.FIRST <= moment.date() <= self.LAST:
            self.fail(f"{moment.date()} is out of range ({self.FIRST} to {self.LAST})",
                      param, ctx)
        return moment


def date_option(help_text: str, required: bool = False) -> Callable[[F], F]:
    """The `--date YYYY-MM-DD` option; the command receives a `date` (or None) as `day`."""
    return click.option("--date", "day", type=_Date(formats=["%Y-%m-%d"]),
                        required=required, help=help_text,
                        callback=lambda ctx, param, value: value.date() if value else None)


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


@cli.command()
@date_option(help_text="The post date (YYYY-MM-DD; default: the "
              "latest window that has closed). A past date backfills that day.")
@click.option("--publish", is_flag=True, help="Then commit on branch digest/D, push, and "
              "open or update the pull request.")
@click.option("--restore", is_flag=True, help="First take the day's files from its branch "
              "digest/D where the working tree has none (as --publish does), without "
              "publishing: `digest publish` follows in a later step.")
@click.option("--offline", is_flag=True, help="Send no request to arXiv: replay cached "
              "answers, or use the day's records when there are none.")
@click.option("--no-llm", is_flag=True, help="Skip translation: untranslated papers show "
              "their English abstract marked 待翻译.")
@click.option("--force", is_flag=True, help="Re-translate machine-written texts that no "
              "editor has touched.")
@pass_ctx
@writes
def run(ctx: Context, day: date | None, publish: bool, restore: bool, offline: bool,
        no_llm: bool, force: bool) -> None:
    """The daily job: fetch, translate, render (and publish) one day.

    When arXiv announced nothing in the window it prints "arXiv made no announcement in
    this window", writes no post and exits 0. A failing stage is named, exit status 1;
    running again finishes what was left. When papers needed a translation or 详细解读
    and not one could be made, the day is still rendered (and published) with the English abstracts
    marked 待翻译, and the exit status is 3, unless each of those papers failed as its
    record already says (same reasons): such a re-run writes and commits nothing and
    exits 0.
    """
    from datetime import datetime, timezone

    from digest_cli.fetch.day import default_day
    from digest_cli.run import RunOptions, run_day

    settings = ctx.settings()
    now = datetime.now(timezone.utc)
    target = day or default_day(settings, now)
    click.echo(f"digest run {target}")
    options = RunOptions(publish=publish, restore=restore, offline=offline, no_llm=no_llm,
                         force=force)
    report = run_day(settings, target, now=now, options=options, say=click.echo)
    if report.translate is not None and report.translate.nothing_translated:
        _nothing_translated(report.translate)


@cli.command("import")
@click.argument("posts", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@writes
def import_cmd(ctx: Context, posts: tuple[Path, ...]) -> None:
    """Read posts (YYYY-MM-DD-arxiv.md) into records and a day manifest.

    Used to migrate the old blog, and to take edits made in a post back into the records:
    a changed text keeps its provenance but no longer matches its hash, so it counts as
    an editor's and no later run rewrites it. Fields a post does not show are kept; a
    paper taken out of the post is left out of the day (its record stays). A record text
    that is an editor's, or changed since the post was rendered, is never replaced: the
    import stops, naming the paper, and writes nothing.
    """
    from digest_cli.posts.importer import import_posts

    settings = ctx.settings()
    for item in import_posts(settings, list(posts)):
        click.echo(f"{item.post}: {item.day.manifest.shown} papers -> "
                   f"{settings.day_path(item.day.manifest.date)} ({len(item.changes)} changed)")


@cli.command()
@date_option(help_text="Render the post of this day (YYYY-MM-DD).")
@click.option("--all", "all_days", is_flag=True, help="Render every day under data/ "
              "(the default when no --date is given).")
@click.option("--check", is_flag=True, help="Write no post; exit 1 naming each post that "
              "differs from what its records render to.")
@click.option("--force", is_flag=True, help="Overwrite a post even if it was edited by hand "
              "since the last render (`digest sync` takes such edits in instead).")
@pass_ctx
@writes
def render(ctx: Context, day: date | None, all_days: bool, check: bool, force: bool) -> None:
    """Render posts (_posts/YYYY-MM-DD-arxiv.md) from the records.

    A post edited by hand since its last render is not overwritten: run `digest sync`.
    """
    from digest_cli.posts.write import render_days, stale_posts
    from digest_cli.records.store import day_dates
    from digest_cli.records.writer import Writer

    settings = ctx.settings()
    if day is not None and all_days:
        raise click.UsageError("give --date or --all, not both")
    days = [day] if day is not None else day_dates(settings)
    if check:
        stale = stale_posts(settings, days)
        for d, why in stale:
            click.echo(f"{settings.post_path(d)}: {why} (run `digest render --date {d}`)")
        if stale:
            sys.exit(1)
        click.echo(f"{len(days)} posts match their records")
        return
    # With several days, one bad day stops no other.
    result = render_days(settings, days, Writer(), force=force, keep_going=len(days) > 1)
    for d in result.changed:
        click.echo(f"wrote {settings.post_path(d)}")
    click.echo(f"{len(result.rendered)} posts rendered, {len(result.changed)} changed")
    for exc in result.failed:  # every failing day, one line each; their old posts untouched
        click.echo(f"Error ({exc.stage}): {exc}", err=True)
    if result.failed:
        sys.exit(1)


@cli.command()
@date_option(help_text="Sync this day (default: every day).")
@pass_ctx
@writes
def sync(ctx: Context, day: date | None) -> None:
    """Bring posts and records together after editors' edits.

    Records changed since the last render: the post is re-rendered. The post changed:
    its edits go into the records (marked as an editor's), then it is re-rendered; a
    paper block added to the post joins the day, one taken out is left out (its record
    stays). The same paper changed in both, or an edit the records cannot hold (the
    front matter or header): stop, naming the paper and showing both versions.
    """
    from digest_cli.posts.sync import sync_day
    from digest_cli.records.store import day_dates
    from digest_cli.records.writer import Writer

    settings = ctx.settings()
    writer = Writer()
    for d in [day] if day is not None else day_dates(settings):
        report = _sync_one(settings, d, writer, sync_day)
        detail = "".join(f"\n  {pid}: {', '.join(f)}" for pid, f in report.imported.items())
        click.echo(f"{d}: {report.action}{detail}")
        if report.imported and settings.annotations:
            post = settings.post_path(d).relative_to(settings.root)
            click.echo(f"::notice file={post}::edited in the post: took "
                       f"{', '.join(report.imported)} into {settings.data_dir}/{d}")


def _sync_one(settings: Settings, d: date, writer: Writer,
              sync_day: Callable[[Settings, date, Writer], Any]) -> Any:
    """One day's sync; a refusal is also a GitHub annotation at the post's line."""
    from digest_cli.errors import DigestError

    try:
        return sync_day(settings, d, writer)
    except DigestError as exc:
        if settings.annotations and exc.path is not None:
            from digest_cli.posts.check import Problem

            click.echo(Problem(exc.path, exc.message, exc.line, exc.paper_id)
                       .annotation(settings.root))
        raise


@cli.command()
@date_option(help_text="Check this day.")
@click.option("--all", "all_days", is_flag=True, help="Check every day (the default).")
@click.option("--annotations/--no-annotations", default=None,
              help="Print GitHub Actions ::error annotations (default: when GITHUB_ACTIONS "
              "is set).")
@pass_ctx
def check(ctx: Context, day: date | None, all_days: bool, annotations: bool | None) -> None:
    """Validate records and texts, and that each post equals its render; exit 1 on errors.

    Checks the record schema, ids and links, and the quality rules for texts: Chinese,
    the three parts of the 详细解读, no headings, balanced markup, the abstract's numbers
    kept, no error text or placeholders. For text this tool did not generate (imported
    or an editor's), the layout rules are format notes (warnings), not errors.
    """
    from digest_cli.confine import require_site
    from digest_cli.posts.check import check_days

    settings = ctx.settings(annotations=annotations)
    require_site(settings)
    problems = check_days(settings, [day] if day is not None else None)
    for problem in problems:
        click.echo(problem.annotation(settings.root) if settings.annotations else str(problem))
    errors = [p for p in problems if not p.warning]
    notes = f" ({len(problems) - len(errors)} format notes)" if len(problems) > len(errors) else ""
    if errors:
        click.echo(f"{len(errors)} problems{notes}", err=True)
        sys.exit(1)
    click.echo(f"no problems{notes}")


@cli.command()
@date_option(required=True, help_text="The day to preview.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--serve", is_flag=True, help="Serve the page on localhost and re-render it "
              "whenever a record of the day changes (Ctrl-C stops).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port for --serve.")
@pass_ctx
def preview(ctx: Context, day: date | None, open_browser: bool, serve: bool, port: int) -> None:
    """Write a standalone HTML preview of a day and print its path.

    The 详细解读 is rendered and folds open and closed; math is left to MathJax.
    """
    from digest_cli.posts.preview import PreviewServer, write_preview

    assert day is not None  # the option is required: click exits with status 2 without it
    settings = ctx.settings()
    if not serve:
        path = write_preview(settings, day)
        click.echo(str(path))
        if open_browser:
            import webbrowser

            webbrowser.open(path.resolve().as_uri())
        return
    server = PreviewServer(settings, day, port=port)
    click.echo(f"serving {server.url} (re-rendered when {settings.data_dir}/{day}/ changes; "
               "Ctrl-C stops)")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@cli.command()
@date_option(help_text="The post date to fetch (YYYY-MM-DD; default: "
              "the latest window that has closed).")
@click.option("--offline", is_flag=True, help="Replay the cached API answers; send no request.")
@pass_ctx
@writes
def fetch(ctx: Context, day: date | None, offline: bool) -> None:
    """Query arXiv for a day's papers and write its records (untranslated) and manifest.

    A day takes the papers arXiv announced in its window, plus any held back from an
    earlier window that no digest has yet (see docs/fetch.md). When arXiv announced
    nothing, it says so and exits 0 without writing anything.
    """
    from datetime import datetime, timezone

    from digest_cli.fetch.day import NoPost, default_day, fetch_day, format_report

    settings = ctx.settings()
    now = datetime.now(timezone.utc)
    target = day or default_day(settings, now)
    report = fetch_day(settings, target, now=now, offline=offline)
    if isinstance(report, NoPost):
        click.echo(f"{target}: {report.reason}")
        return
    for line in format_report(report, settings):
        click.echo(line)


@cli.command()
@date_option(help_text="The day to translate (YYYY-MM-DD; default: "
              "the latest day under data/).")
@click.option("--force", is_flag=True, help="Redo machine-written texts too, asking the LLM "
              "anew (edited, imported, human and reviewed texts are never rewritten).")
@click.option("--only", metavar="ID", help="Translate only this paper (an arXiv id).")
@click.option("--all", "all_days", is_flag=True, help="Every day under data/ (e.g. to give "
              "an imported archive its briefs); prints the plan first.")
@click.option("--from", "since", type=_Date(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              callback=lambda ctx, param, value: value.date() if value else None,
              help="The days from this one on (with --to: a range); prints the plan first.")
@click.option("--to", "until", type=_Date(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              callback=lambda ctx, param, value: value.date() if value else None,
              help="The days up to this one (with --from: a range).")
@click.option("--dry-run", is_flag=True, help="With --all or --from/--to: print the plan "
              "(papers, requests, estimated tokens and cost per day) and stop.")
@click.option("--shard", metavar="K/N", help="Translate only shard K of N of the day's papers "
              "(a big day split across jobs; needs --out). See docs/big-fields.md.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --shard: the folder to pack the shard's records and answers into "
              "(emptied first), for `digest shards merge`.")
@pass_ctx
@writes
def translate(ctx: Context, day: date | None, force: bool, only: str | None, all_days: bool,
              since: date | None, until: date | None, dry_run: bool, shard: str | None,
              out: Path | None) -> None:
    """Fill in each record's Chinese translation, 详细解读 and brief where missing.

    With --all or --from/--to, every day of the range in turn, after printing what it
    will ask (resumable: a re-run skips what is done and reuses cached answers).

    The brief is a Chinese title, a one-sentence summary and 1-3 topics, from one short
    extra request per paper (`llm_brief`).

    Needs an API key in the variable named by `llm_api_key_env` (DIGEST_LLM_API_KEY by
    default); see docs/llm.md for providers. Papers that still fail after retries and
    repair prompts are listed (and kept in their records' `failures`); the others go on.
    Exit status 3 when papers needed a translation or 详细解读 and not one could be made
    (a failed brief alone does not count: the post is whole without it), unless they all
    failed as their records already say: then nothing is written and the status is 0.
    """
    from digest_cli.errors import TranslateError
    from digest_cli.records.layout import latest_day
    from digest_cli.translate.day import translate_day

    if not log.isEnabledFor(logging.DEBUG):  # a line per HTTP request would drown the rest
        for name in ("httpx2", "openai"):
            logging.getLogger(name).setLevel(logging.WARNING)
    settings = ctx.settings()
    if all_days or since or until:
        if day is not None or only is not None or shard is not None:
            raise click.UsageError("give --date/--only/--shard or --all/--from/--to, not both")
        _translate_days(settings, force, since, until, dry_run)
        return
    target = day or latest_day(settings)
    if target is None:
        raise TranslateError(f"no records under {settings.data_path} (run `digest fetch`)")
    if (shard is None) != (out is None) or (shard and only):
        raise click.UsageError("--shard and --out go together, and not with --only")
    with _progress_printer() as on_progress:
        if shard is not None and out is not None:
            from digest_cli.translate.shard import Shard, translate_shard

            report = translate_shard(settings, target, Shard.parse(shard), out, force=force,
                                     on_progress=on_progress)
        else:
            report = translate_day(settings, target, force=force, only=only,
                                   on_progress=on_progress)
    for line in report.summary_lines():
        click.echo(line)
    if report.nothing_translated:
        _nothing_translated(report)


NOTHING_TRANSLATED = 3  # exit status: papers needed texts and none could be had


def _translate_days(settings: Any, force: bool, since: date | None, until: date | None,
                    dry_run: bool) -> None:
    """`translate --all` / `--from --to`: the plan, then each day that has work."""
    from digest_cli.records.store import day_dates
    from digest_cli.translate.day import translate_day
    from digest_cli.translate.plan import plan_day, plan_lines

    days = [d for d in day_dates(settings)
            if (since is None or d >= since) and (until is None or d <= until)]
    plans = [plan_day(settings, d, force) for d in days]
    for line in plan_lines(plans, settings):
        click.echo(line)
    if dry_run:
        return
    nothing = []
    for plan in plans:
        if not plan.calls:
            continue
        with _progress_printer() as on_progress:
            report = translate_day(settings, plan.day, force=force, on_progress=on_progress)
        for line in report.summary_lines():
            click.echo(line)
        if report.nothing_translated:
            nothing.append(report)
    if nothing and len(nothing) == sum(1 for p in plans if p.calls):
        _nothing_translated(nothing[-1])


def _nothing_translated(report: Any) -> None:
    failed = len({pid for pid, _, _ in report.failed})
    click.echo(f"Error (translate): none of the {failed} papers that needed texts could be "
               "translated (see the failed lines; re-run to retry)", err=True)
    sys.exit(NOTHING_TRANSLATED)


class _progress_printer:
    """A rich progress bar on a terminal; plain lines otherwise (CI logs)."""

    def __enter__(self) -> Callable[[str, str, int, int], None]:
        self.bar: Progress | None = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("translating", total=None)
        return self.update

    def update(self, paper_id: str, outcome: str, finished: int, total: int) -> None:
        if self.bar is None:
            click.echo(f"[{finished}/{total}] {paper_id} {outcome}", err=True)
        else:
            self.bar.update(self.task, completed=finished, total=total,
                            description=f"translating ({paper_id} {outcome})")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@cli.group()
def shards() -> None:
    """A big day's LLM stage split across jobs (docs/big-fields.md)."""


@shards.command("prepare")
@date_option(help_text="The post date (YYYY-MM-DD; default: the latest window that has "
              "closed).")
@pass_ctx
@writes
def shards_prepare(ctx: Context, day: date | None) -> None:
    """Bring back the day's branch and fetch the day: what every shard starts from.

    Prints `digest shards prepare DATE` first. When arXiv announced nothing, it says so and
    exits 0 without writing the day.
    """
    from datetime import datetime, timezone

    from digest_cli.fetch.day import default_day
    from digest_cli.translate.shard import prepare_day

    settings = ctx.settings()
    now = datetime.now(timezone.utc)
    target = day or default_day(settings, now)
    click.echo(f"digest shards prepare {target}")
    nothing = prepare_day(settings, target, now, click.echo)
    if nothing is not None:
        click.echo(f"{target}: {nothing.reason}")


@shards.command("merge")
@date_option(help_text="The day the shards translated.", required=True)
@click.option("--shards", "count", type=click.IntRange(1, 64), required=True,
              help="How many shards the day was split into (N of --shard K/N).")
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
@writes
def shards_merge(ctx: Context, day: date, count: int, folders: tuple[Path, ...]) -> None:
    """Take the FOLDERS packed by `digest translate --shard K/N --out FOLDER` into the day.

    Each folder is checked as untrusted: only its own papers' records and cached answers,
    regular files only; a folder that fails is refused whole. Only the machine's texts are
    taken, and only where the day's record is still the machine's to write. Papers of a
    shard that is missing or refused are listed as failed; the day can still be rendered
    and published. Exit status 3 when no shard could be merged.
    """
    from digest_cli.translate.shard_merge import merge_shards

    report = merge_shards(ctx.settings(), day, count, list(folders))
    for line in report.summary_lines():
        click.echo(line)
    if not report.merged:
        click.echo(f"Error (merge): none of the {count} shards could be merged", err=True)
        sys.exit(NOTHING_TRANSLATED)


@cli.command()
@date_option(help_text="The day to publish (default: the newest "
              "day under data/).")
@pass_ctx
@writes
def publish(ctx: Context, day: date | None) -> None:
    """Commit a day's records and post to branch digest/DATE, push it, open or update its PR.

    One commit per changed paper record, then one for the manifest and the post; nothing
    changed means no commit and no push. Never checks out anything or force-pushes. The PR
    goes through the GitHub API (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN); with
    GITHUB_STEP_SUMMARY set, a summary of the day is appended to it. Safe to run again.
    """
    from digest_cli.publish.day import publish_day
    from digest_cli.records.layout import latest_day

    settings = ctx.settings()
    when = day or latest_day(settings)
    if when is None:
        raise click.UsageError(f"no days under {settings.data_path}; give --date")
    for line in publish_day(settings, when).lines():
        click.echo(line)


@cli.command()
@date_option(help_text="The day to review (default: the day named in --from-pr-body's "
             "text).")
@click.option("--mark", "marks", multiple=True, metavar="ID", help="Mark this paper reviewed "
              "(repeat for more).")
@click.option("--unmark", "unmarks", multiple=True, metavar="ID", help="Clear the paper's "
              "reviewed mark.")
@click.option("--from-pr-body", "body_file", type=click.File("r", encoding="utf-8"),
              help="Take the ticked boxes of a pull request body (or overflow comment) in "
              "this file ('-': standard input) into the records.")
@click.option("--previous-body", "previous_file", type=click.File("r", encoding="utf-8"),
              help="The text before the edit (GitHub's changes.body.from): the boxes this "
              "edit changed are taken, with those the text's state line shows a person "
              "changed before; without it and without a state line, every box.")
@click.option("--actor", help="Who ticked: nothing is taken unless they have write access "
              "to GITHUB_REPOSITORY (asked of the GitHub API); with --mark, the name the "
              "mark keeps.")
@click.option("--commit-message", "message_file", type=click.Path(dir_okay=False),
              help="With --from-pr-body: write the mark commit's message (the person and "
              "the papers) to this file when a record changed.")
@click.option("--refresh-pr", is_flag=True, help="Then make the day's open pull request show "
              "the records (ticks, reviewed count, marks); boxes a person changed that the "
              "records do not have yet are left as they are.")
@click.option("--taken", "taken_file", type=click.File("r", encoding="utf-8"),
              help="With --refresh-pr: the text whose ticks the records just took (boxes "
              "changed after it are newer than the records: left as they are).")
@pass_ctx
@writes
def review(ctx: Context, day: date | None, marks: tuple[str, ...], unmarks: tuple[str, ...],
           body_file: TextIO | None, previous_file: TextIO | None, actor: str | None,
           message_file: str | None, refresh_pr: bool, taken_file: TextIO | None) -> None:
    """A table of the day's papers and what is left to review; or mark papers reviewed.

    Statuses: translated, abstract only, failed, 待翻译; edited: an editor changed a text;
    reviewed: `reviewed: true` in the record (set with --mark, or by ticking the paper's
    box in the pull request), with who and when; changed: a text changed since the tick.
    """
    from digest_cli.records.writer import Writer

    settings, writer = ctx.settings(), Writer()
    target = day
    if body_file is not None:
        target = _take_ticks(settings, body_file, previous_file, actor, target, writer,
                             message_file)
    elif previous_file is not None or message_file is not None:
        raise click.UsageError("--previous-body and --commit-message go with --from-pr-body")
    if target is None:
        raise click.UsageError("--date is required")
    if marks or unmarks:
        from digest_cli.records.review import set_reviewed

        wanted = {**{m: True for m in marks}, **{u: False for u in unmarks}}
        changed = set_reviewed(settings, target, wanted, writer, by=actor)
        click.echo(_changed_line(changed))
    if refresh_pr:
        _refresh_pr(settings, target,
                    _read_body(taken_file) if taken_file is not None else None)
    if body_file is None and not (marks or unmarks):
        _review_table(settings, target)


def _take_ticks(settings: Settings, body_file: TextIO, previous_file: TextIO | None,
                actor: str | None, target: date | None, writer: Writer,
                message_file: str | None) -> date | None:
    from digest_cli.publish.ticks import apply_ticks, commit_message

    previous = _read_body(previous_file) if previous_file is not None else None
    report = apply_ticks(settings, _read_body(body_file), previous, actor, writer, day=target)
    if not report.allowed:
        click.echo(f"{actor} has no write access to {settings.github_repository}: "
                   "ticks not taken")
    else:
        click.echo(f"{_plural(len(report.edited), 'box', 'boxes')} changed in the edit, "
                   f"{_plural(len(report.ticks), 'box', 'boxes')} differed from the records; "
                   + _changed_line(report.changed))
    if message_file and report.changed:
        Path(message_file).write_text(commit_message(report, actor), encoding="utf-8")
    return report.day


def _read_body(stream: TextIO) -> str:
    """A pull request body file's text; not UTF-8 is one line naming the file."""
    try:
        return stream.read()
    except UnicodeDecodeError as exc:
        raise DigestError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                          path=getattr(stream, "name", "-")) from None


def _plural(n: int, one: str, many: str | None = None) -> str:
    """`1 record`, `2 records`."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _changed_line(changed: list[str]) -> str:
    """`1 record changed: 2601.19786`, `0 records changed`."""
    return f"{_plural(len(changed), 'record')} changed" + (f": {', '.join(changed)}"
                                                           if changed else "")


def _refresh_pr(settings: Settings, target: date, taken: str | None = None) -> None:
    from digest_cli.publish.pull_request import refresh_pull_request
    from digest_cli.records.store import load_day

    head, newer = _head(settings)
    number = refresh_pull_request(settings, load_day(settings, target), head=head,
                                  taken=taken, newer=newer)
    click.echo(f"pull request #{number} refreshed" if number else "no open pull request")


def _head(settings: Settings) -> tuple[str | None, Callable[[str], bool] | None]:
    """The commit the records are read at, and a test of whether another is later."""
    from digest_cli.errors import PublishError
    from digest_cli.publish.git import Git

    try:
        g = Git(settings)
    except PublishError:
        return None, None
    head = g.ref("HEAD")
    return head, (lambda sha: head is not None and g.is_ancestor(head, sha))


def _review_table(settings: Settings, target: date) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from digest_cli.records.review import review_rows
    from digest_cli.records.store import load_day

    rows = review_rows(settings, load_day(settings, target))
    folder = settings.day_path(target)
    try:
        folder = folder.relative_to(settings.root)
    except ValueError:
        pass
    done = sum(r.reviewed and not r.changed for r in rows)
    table = Table(title=f"{target}: reviewed {done} of {len(rows)}",
                  caption=f"records: {folder.as_posix()}/<id>.yaml")
    # One line a paper at 80 columns: only the title column gives up width (its cells end
    # in "…"); the others never wrap. Text(): a title's `[b]` is not rich markup.
    for name in ("#", "id", "title", "status", "edited", "reviewed"):
        table.add_column(name, no_wrap=name != "title")
    for n, r in enumerate(rows, 1):
        status = r.status + (" · replaced" if r.replacement else "")
        mark = "changed" if r.changed else "✓" if r.reviewed else ""
        title = for_terminal(r.title)  # no escape sequence reaches the terminal
        table.add_row(Text(str(n)), Text(r.id), Text(title, no_wrap=True, overflow="ellipsis"),
                      Text(status), Text("edited" if r.edited else ""), Text(mark))
    console = Console(highlight=False)
    console.print(table)
    for r in rows:  # who and when, under the table (the table keeps to one line a paper)
        if r.reviewed:
            what = "changed since reviewed" if r.changed else "reviewed"
            who = f" by {for_terminal(r.by)}" if r.by else ""
            when = f" at {for_terminal(r.at)}" if r.at else ""
            console.print(Text(f"{r.id}: {what}{who}{when}"))


@cli.group()
def records() -> None:
    """Maintenance of the YAML records under data/."""


@records.command("reflow")
@date_option(help_text="Only this day (default: every day).")
@pass_ctx
@writes
def records_reflow(ctx: Context, day: date | None) -> None:
    """Rewrite records in the sentence-a-line layout (once, after upgrading).

    Only line breaks change: the texts, the posts and the edited marks stay as they are.
    """
    from digest_cli.records.reflow import reflow_records
    from digest_cli.records.writer import Writer

    days = [day] if day is not None else None
    count = reflow_records(ctx.settings(), days, Writer())
    click.echo(f"{count} records rewritten")


@cli.group()
def glossary() -> None:
    """The glossary of terms that goes into every prompt (glossary.yaml)."""


@glossary.command("suggest")
@click.option("--min-papers", type=int, default=2, show_default=True,
              help="Propose a replacement made in at least this many papers.")
@pass_ctx
def glossary_suggest(ctx: Context, min_papers: int) -> None:
    """Propose glossary lines from editors' corrections in git history (writes nothing)."""
    from digest_cli.translate.glossary import suggest_terms

    suggestions = suggest_terms(ctx.settings(), min_papers=min_papers)
    for s in suggestions:
        click.echo(s.glossary_line())
    if not suggestions:
        click.echo("no suggestions: no replacement was made in enough papers")


@cli.command("settings")
@pass_ctx
def settings_cmd(ctx: Context) -> None:
    """Print the settings in effect as [tool.digest] would write them (secrets masked), each
    with where its value comes from: default, pyproject.toml or an environment variable.
    docs/settings.md lists every setting."""
    from digest_cli.settings import setting_sources

    settings = ctx.settings()
    sources = setting_sources(settings.root)
    for name, value in settings.describe().items():
        click.echo(f"{name} = {_toml(value)}  # {sources[name]}")


def _toml(value: Any) -> str:
    """A setting's value as [tool.digest] writes it (TOML), not as Python's repr."""
    import json
    from datetime import time

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # 3600.0 stays a float, as TOML writes it
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, time):
        return json.dumps(value.strftime("%H:%M"))
    return json.dumps(str(value), ensure_ascii=False)  # text, paths, dates


@cli.command()
@click.option("--repo", "repository", metavar="OWNER/NAME", default="",
              help="The site repository on GitHub (default: GITHUB_REPOSITORY, else the "
              "origin remote).")
@click.option("--llm", is_flag=True, help="Also send the LLM endpoint a one-token request "
              "(with the key in the environment).")
@pass_ctx
def doctor(ctx: Context, repository: str, llm: bool) -> None:
    """Check the repository's set-up on GitHub: one line per check, each problem with its fix.

    Reads, with GITHUB_TOKEN (an owner's token: `gh auth token`), the default branch,
    whether Actions may open pull requests, the Pages source and URL, the LLM key secret
    (its name only), the daily workflow's state, and the PR labels (creating a missing
    one). Exit status 1 when there is a problem. docs/setup.md follows the same order.
    """
    from digest_cli.doctor import run_doctor

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per check, no request log
    findings = run_doctor(ctx.settings(), repository=repository, llm=llm)
    for finding in findings:
        click.echo(finding.line())
    if any(not f.ok for f in findings):
        raise SystemExit(1)


@cli.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--categories", "categories", multiple=True, required=True, metavar="CAT",
              help="An arXiv category to follow (repeat, or comma-separate): cs.CL.")
@click.option("--title", required=True, help="The site's title (_config.yml).")
@click.option("--description", default="", help="One line under the title (default: says "
              "the categories).")
@click.option("--field-name", default="", help="The field as the prompts name it (default: "
              "from the first known category, e.g. 自然语言处理领域 for cs.CL).")
def new_cmd(path: Path, categories: tuple[str, ...], title: str, description: str,
            field_name: str) -> None:
    """Write a new site repository at PATH: workflows, settings, site template, an empty
    archive, topics and glossary; then print what to set on GitHub (`digest doctor` checks
    it). Nothing is written when PATH is a folder that is not empty."""
    from digest_cli.newsite import SiteSpec, new_site, next_steps

    cats = [c.strip() for item in categories for c in item.split(",") if c.strip()]
    site = new_site(path, SiteSpec(title=title, categories=cats, description=description,
                                   field_name=field_name))
    click.echo(f"Wrote a new site in {site.path} ({site.files} files). Next:")
    for n, step in enumerate(next_steps(site), 1):
        click.echo(f"  {n}. {step}")


@cli.group("site")
def site_group() -> None:
    """The reader's site: build it as the Pages workflow does, serve it locally."""


@site_group.command("build")
@click.option("--base-path", default="", metavar="/REPO", help="URL path the site is served "
              "under: /REPO for a project site (OWNER.github.io/REPO), empty for a user or "
              "custom-domain site.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder  [default: _site in the site repository]")
@pass_ctx
def site_build(ctx: Context, base_path: str, out: Path | None) -> None:
    """Build the site: Jekyll, topic pages and feeds, MathJax assets, Pagefind search index."""
    from digest_cli.site.build import build_site

    settings = ctx.settings()
    report = build_site(settings, out or settings.root / "_site", base_path)
    click.echo(f"built {report.pages} pages ({report.days} days) into {report.out} "
               f"with base path {report.base_path or '/'} in {report.seconds:.1f} s")


@site_group.command("serve")
@click.option("--base-path", default="", metavar="/REPO", help="The base path it was built "
              "with.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The built site  [default: _site in the site repository]")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True,
              help="Port on localhost (not Jekyll's 4000, which `jekyll serve` may hold; "
              "beside the preview's 8000).")
@pass_ctx
def site_serve(ctx: Context, base_path: str, out: Path | None, port: int) -> None:
    """Serve the built site on localhost until Ctrl-C (run `digest site build` first)."""
    from digest_cli.site.build import SiteError
    from digest_cli.site.serve import make_server

    site = out or ctx.settings().root / "_site"
    try:
        server = make_server(site, base_path, port=port)
    except OSError as exc:  # the port is taken, or not ours to use: one line, as preview
        raise SiteError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror} (choose another "
                        "with --port)") from None
    click.echo(f"serving {site} at http://127.0.0.1:{server.server_address[1]}"
               f"{base_path.rstrip('/')}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main() -> None:
    cli(prog_name="digest")
