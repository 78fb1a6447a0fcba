"""The click group, the shared ``--db`` option and error handling."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from storage import QueryError, ReviewStore, Store, StoreError
from storage.open import open_store as open_location
from tui.text import clean_name

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _remember_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # ``--db`` works before and after the command name; the later one wins.
    if value is not None:
        ctx.ensure_object(dict)["db"] = value
        root = ctx.find_root()
        root.ensure_object(dict)["db"] = value


def db_option(func: Callable) -> Callable:
    return click.option(
        "--db",
        # a plain string: a postgresql:// URL must not be normalised like a path
        type=click.Path(dir_okay=False),
        callback=_remember_db,
        expose_value=False,
        is_eager=True,
        help="Store file or postgresql:// URL (default: $COPYDESK_DB, else the user data dir).",
    )(func)


# the console of the progress bar on screen, if any (``live_console``)
_LIVE_CONSOLES: list[Any] = []


@contextmanager
def live_console(console: Any) -> Iterator[None]:
    """Warnings go through ``console`` (a rich progress bar's) while it draws: written
    past it, a warning landed in the middle of the bar's line."""
    _LIVE_CONSOLES.append(console)
    try:
        yield
    finally:
        _LIVE_CONSOLES.remove(console)


def warn(message: str) -> None:
    """A warning line on stderr; the message may quote file names and ids: sanitised."""
    line = f"warning: {clean_name(message)}"
    if _LIVE_CONSOLES:
        from rich.text import Text  # literal text: no markup is read in it

        _LIVE_CONSOLES[-1].print(Text(line, style="yellow"), soft_wrap=True)
        return
    click.secho(line, fg="yellow", err=True)


def open_store(ctx: click.Context, *, writable: bool = False, repairing: bool = False) -> Store:
    """The store of ``--db`` (else $COPYDESK_DB, else the default). Read-only unless the
    command writes: a read-only command writes nothing, anywhere, and a missing store is
    an error for it rather than a new empty store."""
    db = ctx.find_root().ensure_object(dict).get("db")
    # a postgresql:// URL opens the team store (storage/open.py)
    store = open_location(db, writable=writable, warn=warn, repairing=repairing)
    ctx.call_on_close(store.close)
    return store


def fail(message: str, code: int = 1) -> None:
    """One sanitised error line on stderr, then exit with ``code``."""
    click.echo(f"copydesk: {clean_name(message)}", err=True)
    sys.exit(code)


class SafeGroup(click.Group):
    """A click group whose usage errors never echo a raw argument: click quotes most bad
    values with repr(), but not all ("Got unexpected extra argument (ESC]0;...)").

    Its commands load lazily (click's "lazy loading subcommands" pattern): ``lazy_commands``
    maps a command name to ``module:attribute``, imported when the command is run or
    listed, so that `copydesk show` does not import what `copydesk export` or `synth`
    need (tui/cli/__init__.py holds the table)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not the command {cmd_name}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            _sanitise_click_error(exc)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            _sanitise_click_error(exc)
            raise


def _sanitise_click_error(exc: click.ClickException) -> None:
    exc.message = clean_name(exc.message)
    if isinstance(exc, click.FileError):
        exc.ui_filename = clean_name(exc.ui_filename)


def handles_errors(func: Callable) -> Callable:
    """Turn the store's errors into one clear line and an exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QueryError as exc:
            fail(f"bad query: {exc}", 2)
        except StoreError as exc:
            fail(str(exc), 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:  # `copydesk list | head`
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # disk full, no permission, ...: the saved files are untouched
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", 1)

    return wrapper


@click.group(cls=SafeGroup, invoke_without_command=True, context_settings=CONTEXT)
@db_option
@click.version_option(package_name="copydesk")
@click.pass_context
@handles_errors
def main(ctx: click.Context) -> None:
    """copydesk: review generated alphanode posts from the keyboard.

    Without a command, opens the review app (importing the bundled sample posts first
    when the store is empty).
    """
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(ctx, writable=True)
    if len(store) == 0:
        report = store.import_samples()
        click.echo(
            f"New store {clean_name(store.path)}: imported the sample posts ({report.summary()})."
        )
    from tui.app import run_app

    run_app(store)
    if sys.stdout.isatty():
        _exit_at_once(store)


def run() -> NoReturn:
    """The ``copydesk`` console script: ``main``, then the process ends with its exit code
    without freeing what the command held object by object (the catalog of a 100,000-post
    store: ~0.07 s after a batch's import; of 1,000,000 posts: seconds). Every write was
    made (and fsynced where it is promised) before the command returned; standard output
    and error are flushed here, and the OS lets go of the store's file locks and a team
    store's connection (the server ends its session)."""
    try:
        main.main(prog_name="copydesk")
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click's standalone mode always exits
        code = 0
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): said on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    _end_process(code)


def _end_process(code: int) -> NoReturn:
    """Flush standard output and error, then end the process at once (``os._exit``)."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `copydesk list | head`; a closed stream
            pass
    os._exit(code)


def _exit_at_once(store: ReviewStore) -> NoReturn:
    """End the process without freeing the catalog object by object: at 1,000,000 posts
    that took 4-7 s after the screen was gone (100,000: ~0.3 s). Nothing is lost: every
    decision was on disk when it showed, a team store's claims were given back and its
    connection is closed here, and the OS lets go of a local store's file locks. (Only a
    terminal's copydesk ends this way, not one under a test runner's captured output.)"""
    if store.team is not None:
        store.close()  # the server sees the connection end (a local store's close frees)
    _end_process(0)
