"""What every test folder of the repository shares (tests/, schemas/tests, plugins/*/tests, themes/*/tests):
the run spread over the machine's cores, a PostgreSQL database per worker, and URL builders compiled once.

- ``python -m pytest`` runs on as many workers as the machine has cores (pytest-xdist's ``-n auto``);
  ``-n 0`` or ``-p no:xdist`` runs in one process, ``-n 3`` on three (docs/testing.md).
- Under xdist, each worker takes a PostgreSQL database of its own, ``<YUYUE_TEST_DATABASE_URL's database>_gwN``,
  created when the worker starts and dropped when it ends, and points ``YUYUE_TEST_DATABASE_URL`` at it, so every
  fixture and every process a test starts (servers, workers) uses it. SQLite needs nothing: each worker's
  temporary folder is its own.
"""

from __future__ import annotations

import os

import pytest

from yuyue.testing import on_database_server


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``-n auto`` unless the command line says how many workers (``-n 0``: none), or xdist is off; modules kept whole."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    if config.option.numprocesses is None and not config.option.tx and not config.getoption("usepdb", False):
        config.option.numprocesses = "auto"
    if config.option.numprocesses and config.option.dist == "no":
        # A module's tests stay on one worker: its module-scoped fixtures (a seeded application, a served document)
        # are built once, not again each time a worker comes back to the module between others.
        config.option.dist = "loadscope"


def _worker_database(config: pytest.Config) -> tuple[str, str] | None:
    """(server URL, the worker's database name) when this is an xdist worker testing on PostgreSQL."""
    url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    worker = getattr(config, "workerinput", {}).get("workerid")
    if not url or not worker or not url.startswith("postgres"):
        return None
    from sqlalchemy.engine import make_url

    return url, f"{make_url(url).database}_{worker}"


def pytest_configure(config: pytest.Config) -> None:
    _compile_url_builders_once()
    worker = _worker_database(config)
    if worker is None:
        return
    url, name = worker
    on_database_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    from sqlalchemy.engine import make_url

    config.stash[_SERVER_URL] = url
    os.environ["YUYUE_TEST_DATABASE_URL"] = make_url(url).set(database=name).render_as_string(hide_password=False)


_SERVER_URL = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker drops its database when its tests are done: xdist may end the process before ``pytest_unconfigure``."""
    url = session.config.stash.get(_SERVER_URL, None)
    if url is not None:
        os.environ["YUYUE_TEST_DATABASE_URL"] = url
        on_database_server(url, f'DROP DATABASE IF EXISTS "{_worker_database(session.config)[1]}" WITH (FORCE)')


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller drops what a worker that crashed or was ended early left behind."""
    url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    workers = getattr(config.option, "numprocesses", None)
    if hasattr(config, "workerinput") or not url or not url.startswith("postgres") or not isinstance(workers, int):
        return
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    on_database_server(url, *(f'DROP DATABASE IF EXISTS "{name}_gw{number}" WITH (FORCE)' for number in range(workers)))


def _compile_url_builders_once() -> None:
    """Share Werkzeug's compiled URL builders between the rules of every application the tests build.

    Werkzeug compiles two Python functions for every URL rule of every application (``Rule._compile_builder``);
    for yuyue's ~330 rules that was more than half of ``create_app``, which most tests call. A builder depends
    only on the rule's parts and the names of its defaults, and reads the rule's converters through the rule it is
    bound to, so one compiled function serves every application's identical rule. A rule whose default fills one of
    its own variables (a constant folded into the builder) is compiled as before.
    """
    from werkzeug.routing.rules import Rule

    if getattr(Rule._compile_builder, "yuyue_shared", False):
        return
    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared_builder(self: Rule, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
            return compile_builder(self, append_unknown)
        key = (append_unknown, self.rule, tuple(self._trace), tuple(defaults))
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)  # unbound: ``Rule.compile`` binds it to its rule
        return builders[key]

    shared_builder.yuyue_shared = True
    Rule._compile_builder = shared_builder


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test gets the environment back as it found it.

    Commands run in-process (``yuyue demo`` sets ``YUYUE_PUBLIC_URL`` and the webhook switches for the server
    it starts) would otherwise change the settings of every later test of the worker: which ones depends on
    how xdist spreads the modules.
    """
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
