"""gunicorn's configuration for ``yuyue serve`` (``--config python:yuyue.observability.gunicorn_config``): the metrics folder and a server hook.

gunicorn reads every module-level name it knows as a setting from here, so the
other names are private. Loading this module is the first thing the master does,
before it imports the application or its worker class; that is what makes it the
place to set ``PROMETHEUS_MULTIPROC_DIR``: prometheus-client chooses between
memory and files once, when first imported, and the workers are forked from the
master. Nothing of prometheus-client is imported here at module level for the
same reason.
"""

import os as _os
from pathlib import Path as _Path

from yuyue.config import instance_path as _instance_path

_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _prepare_metrics_folder() -> _Path:
    """``PROMETHEUS_MULTIPROC_DIR``, or ``<instance>/metrics``: created, named in the environment, its ``*.db`` files removed.

    Removed because files the previous run's workers left would be added to this
    run's counts; nothing else is touched (the variable may name a shared folder).
    """
    folder = _Path(_os.environ.get(_MULTIPROC_ENV) or _instance_path() / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    _os.environ[_MULTIPROC_ENV] = str(folder)
    return folder


_prepare_metrics_folder()


def child_exit(server, worker) -> None:
    """A worker exited: its live gauges leave the sum (its counters stay: they counted what it served)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
