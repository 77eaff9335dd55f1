"""Progress of a long command on a terminal, and nothing at all when its output goes to a file, a pipe or a test.

Shared by the commands that can run for minutes (``yuyue init`` on a large database, backup, restore, secret
rotation): each wraps the iterable of its steps in :func:`progress` and does its work in the loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import TypeVar

import click

Step = TypeVar("Step")


def on_terminal() -> bool:
    """Whether stderr is a terminal: progress is drawn there, so stdout stays clean for what a command prints."""
    return sys.stderr is not None and sys.stderr.isatty()


@contextmanager
def progress(
    steps: Iterable[Step], label: str, length: int | None = None, *, describe: Callable[[Step | None], str | None] | None = None
) -> Iterator[Iterable[Step]]:
    """Iterate over ``steps`` with a progress bar on stderr when it is a terminal; otherwise over ``steps`` as they are.

    ``label`` heads the bar (``"migrating"``); ``length`` is the number of steps when ``steps`` has no ``len()``
    (a generator); ``describe`` turns the step in hand into the text after the bar (``"applying 0012"``).
    Nothing is written when stderr is not a terminal, so piped output, cron mail and tests see no extra line, nor
    when there are no steps (a database already at head)::

        with progress(revisions, "migrating", describe=lambda r: r and f"applying {r}") as steps:
            for revision in steps:
                apply(revision)
    """
    count = length if length is not None else len(steps) if isinstance(steps, Sized) else None
    if count == 0 or not on_terminal():
        yield steps
        return
    with click.progressbar(steps, length=length, label=label, item_show_func=describe, file=sys.stderr) as bar:
        yield bar


@contextmanager
def progress_callback(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """For work that reports its own progress: ``advance(done, total)`` drawing a bar on a terminal, or None elsewhere.

    The bar appears at the first report, when the total is known (bytes checksummed, rows restored or sealed).
    """
    if not on_terminal():
        yield None
        return
    bar, seen = None, 0

    def advance(done: int, total: int) -> None:
        nonlocal bar, seen
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - seen)
        seen = done

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
