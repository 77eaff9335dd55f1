"""The ``yuyue`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_appbuilder.security.manager import BaseSecurityManager
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

import yuyue
from yuyue import migrate, sealing
from yuyue.admin.catalog_check import i18n_cli
from yuyue.api import limit_storage
from yuyue.audit.cli import audit_cli, check_everything
from yuyue.config import SettingError, settings_from_env
from yuyue.db import db
from yuyue.declarations import PluginDeclarationError
from yuyue.errors import DomainError
from yuyue.events.channels import messages_log_path
from yuyue.observability.logs import configure_logging, format_record, log_settings
from yuyue.plugins import ENTRY_POINT_GROUP, PluginHost, PluginLoadError, make_plugin_host, plugin_host
from yuyue.progress import progress, progress_callback
from yuyue.provisioning import operations
from yuyue.scaffold import ScaffoldError, create_plugin
from yuyue.serving import gunicorn_command
from yuyue.tenancy.models import StaffRole, TokenKind

FAB_NO_USER_WARNING = "No user yet created, use flask fab command to do it."


def _create_app():
    from yuyue.app import create_app

    return create_app()


def _parse_plugin_options(names: tuple[str, ...], configs: tuple[str, ...]) -> dict[str, dict]:
    plugins: dict[str, dict] = {name: {} for name in names}
    for item in configs:
        name, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=JSON, got {item!r}", param_hint="--config")
        try:
            plugins[name] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"{name}: not JSON ({error})", param_hint="--config") from None
    return plugins


@contextmanager
def _without_log_message(logger_name: str, message: str) -> Iterator[None]:
    def keep(record: logging.LogRecord) -> bool:
        return record.getMessage() != message

    logger = logging.getLogger(logger_name)
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def init_database() -> str:
    """Upgrade the schema to head and sync Flask-AppBuilder's roles and permissions."""
    revisions = migrate.pending_revisions(db.engine)
    with progress(revisions, "migrating", describe=lambda revision: revision and f"applying {revision}") as steps:
        migrate.upgrade(db.engine, steps=steps)
    appbuilder = current_app.appbuilder
    # The role bootstrap of FAB's base manager, without its create_all (Alembic owns the schema).
    # Its "use flask fab command" warning points at a command yuyue users don't have; `init` says it better.
    with _without_log_message("flask_appbuilder.security.manager", FAB_NO_USER_WARNING):
        BaseSecurityManager.create_db(appbuilder.sm)
    appbuilder.add_permissions(update_perms=True)
    appbuilder.sm.add_role("Operator")
    appbuilder.sm.add_role(operations.MERCHANT_ROLE)
    db.session.commit()
    return db.engine.url.render_as_string(hide_password=True)


def create_admin_user(username: str, email: str, password: str, first_name: str | None = None, last_name: str = "") -> None:
    """What ``yuyue admin create`` and ``yuyue fab create-admin`` do: one line on success, one ``error:`` line otherwise."""
    user = operations.create_admin(
        db.session,
        current_app.appbuilder.sm,
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        actor=operations.CLI_ACTOR,
    )
    click.echo(f"created admin user {user.username} ({user.email})")


def _password_from_input() -> str:
    """Asked for twice, not shown, on a terminal; else the first line of standard input (a script's pipe), empty at its end.

    Reading a pipe without a prompt keeps stderr to the one ``error:`` line when the pipe is empty or closed.
    """
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().removesuffix("\n")


@click.command("create-admin")
@click.option("--username", default="admin", prompt="Username")
@click.option("--firstname", default="admin", prompt="User first name")
@click.option("--lastname", default="user", prompt="User last name")
@click.option("--email", default="admin@fab.org", prompt="Email")
@click.password_option()
@with_appcontext
def fab_create_admin(username: str, firstname: str, lastname: str, email: str, password: str) -> None:
    """Create an admin user (Flask-AppBuilder's options, yuyue's checks: see `yuyue admin create`)."""
    create_admin_user(username, email, password, firstname, lastname)


@click.command("create-user")
@click.option("--role", default="Public", prompt="Role")
@click.option("--username", prompt="Username")
@click.option("--firstname", prompt="User first name")
@click.option("--lastname", prompt="User last name")
@click.option("--email", prompt="Email")
@click.password_option()
@with_appcontext
def fab_create_user(role: str, username: str, firstname: str, lastname: str, email: str, password: str) -> None:
    """Create an admin user with --role Admin (see `yuyue admin create`); a merchant's staff come from `yuyue tenants add-staff`."""
    if role != current_app.appbuilder.sm.auth_role_admin:
        raise click.ClickException(f"yuyue makes admin users here (--role Admin), not {role!r}: add a merchant's staff with `yuyue tenants add-staff`")
    create_admin_user(username, email, password, firstname, lastname)


@click.command("reset-password")
@click.option("--username", prompt="The username")
@click.password_option()
@with_appcontext
def fab_reset_password(username: str, password: str) -> None:
    """Set a user's password (Flask-AppBuilder's options, yuyue's checks: see `yuyue admin password`)."""
    set_user_password(username, password)


@click.command("create-db")
@with_appcontext
def fab_create_db() -> None:
    """Create or upgrade the database through yuyue's migrations, as `yuyue init` does."""
    click.echo(f"database ready: {init_database()}")


def set_user_password(username: str, password: str) -> None:
    """What ``yuyue admin password`` and ``yuyue fab reset-password`` do: one line on success, one ``error:`` line otherwise."""
    user = operations.set_password(db.session, current_app.appbuilder.sm, username=username, password=password, actor=operations.CLI_ACTOR)
    click.echo(f"password set for {user.username}")


# Flask-AppBuilder's commands that yuyue answers itself: theirs print a failure as a log line and exit 0, and
# `create-db` makes the tables around the migrations, so that `yuyue init` then fails.
FAB_COMMANDS_OF_OUR_OWN = {command.name: command for command in (fab_create_admin, fab_create_user, fab_reset_password, fab_create_db)}


class YuyueGroup(FlaskGroup):
    """Flask's command group, listing yuyue's commands only.

    Flask's own (``run``, ``shell``, ``routes``) and those Flask extensions add (``fab``, ``limiter``) still answer
    when named, but ``yuyue --help`` does not offer them: ``run`` serves without gunicorn. ``fab create-admin``,
    ``create-user``, ``reset-password`` and ``create-db``, which operators know from Flask-AppBuilder, keep their
    options but run yuyue's commands (:data:`FAB_COMMANDS_OF_OUR_OWN`).
    """

    UNLISTED = frozenset({"run", "shell", "routes", "fab", "limiter"})
    # Flask's options for finding an application and a .env file: yuyue builds its own app from YUYUE_* settings.
    FLASK_OPTIONS = frozenset({"env_file", "app", "debug"})

    def __init__(self, **extra: Any) -> None:
        super().__init__(**extra)
        self.params = [param for param in self.params if param.name not in self.FLASK_OPTIONS]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in self.UNLISTED]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if name == "fab" and isinstance(command, click.Group):
            # A group of our own: Flask-AppBuilder's module-level one stays as it was for anyone else in the process.
            return click.Group(command.name, commands={**command.commands, **FAB_COMMANDS_OF_OUR_OWN}, help=command.help)
        return command


def build_cli(host: PluginHost | None = None) -> click.Group:
    cli = YuyueGroup(
        name="yuyue",
        create_app=_create_app,
        add_default_commands=True,
        add_version_option=False,
        load_dotenv=False,
        help="yuyue booking platform.",
    )
    click.version_option(yuyue.__version__, prog_name="yuyue", message="%(prog)s %(version)s")(cli)

    @cli.command("init")
    def init_command() -> None:
        """Create or upgrade the database to the latest schema."""
        click.echo(f"database ready: {init_database()}")
        if current_app.appbuilder.sm.count_users() == 0:
            click.echo("no admin user yet: create one with `yuyue admin create USERNAME --email EMAIL`")

    @cli.group("admin", cls=AppGroup)
    def admin() -> None:
        """Create users of the web admin's operator console, and set any user's password."""

    @admin.command("create")
    @click.argument("username")
    @click.option("--email", required=True)
    @click.option("--password", help="Otherwise asked for twice on a terminal, or read as the first line of standard input.")
    def admin_create(username: str, email: str, password: str | None) -> None:
        """Create USERNAME with the admin role; a taken user name or email is refused."""
        create_admin_user(username, email, _password_from_input() if password is None else password)

    @admin.command("password")
    @click.argument("username")
    @click.option("--password", help="Otherwise asked for twice on a terminal, or read as the first line of standard input.")
    def admin_password(username: str, password: str | None) -> None:
        """Set USERNAME's password: an admin's, or a merchant's staff member's who forgot theirs."""
        set_user_password(username, _password_from_input() if password is None else password)

    @cli.command("demo")
    @click.option("--port", default=5000, show_default=True, type=click.IntRange(0, MAX_PORT))
    @click.option("--serve/--no-serve", default=True, help="Start the server after seeding.")
    def demo_command(port: int, serve: bool) -> None:
        """Initialise, seed a demo tenant with every installed vertical, and serve on 127.0.0.1."""
        from yuyue.demo import seed_demo

        if serve:
            _check_bindable(f"127.0.0.1:{port}")
        init_database()
        for line in seed_demo(db.session, plugin_host()):
            click.echo(line)
        click.echo(f"login codes and messages of the log channel and the SMS sandbox: {messages_log_path(current_app)}  (tail -f it)")
        if serve:
            # Set for the worker child and the exec'd server only: the demo's links point at this server, and a webhook
            # receiver of one's own on this machine (http://127.0.0.1:…) may be tried.
            os.environ.setdefault("YUYUE_PUBLIC_URL", f"http://127.0.0.1:{port}")
            os.environ.setdefault("YUYUE_WEBHOOKS_ALLOW_HTTP", "1")
            os.environ.setdefault("YUYUE_WEBHOOKS_ALLOW_PRIVATE", "1")
            # A person watches the demo's console: lines of text, with the log channel's messages in full (docs/logging.md).
            os.environ.setdefault("YUYUE_LOG_FORMAT", "text")
            worker, worker_log = _start_demo_worker()
            click.echo(f"worker delivering the outbox beside the server: pid {worker.pid}, log {worker_log}")
            click.echo(f"customer site: http://127.0.0.1:{port}/t/demo/   admin: http://127.0.0.1:{port}/admin/")
            click.echo(f"serving on http://127.0.0.1:{port}/  (Ctrl+C stops)")
            _exec_gunicorn(f"127.0.0.1:{port}", workers=2)

    @cli.command("serve")
    @click.option("--bind", default="127.0.0.1:8000", show_default=True)
    @click.option(
        "--workers", default=recommended_workers(), show_default=True, type=click.IntRange(1, MAX_SERVER_WORKERS), help="Sync worker processes: 2 × cores + 1."
    )
    def serve_command(bind: str, workers: int) -> None:
        """Serve the application with gunicorn."""
        _check_bindable(bind)
        _exec_gunicorn(bind, workers)

    @cli.group("tenants", cls=AppGroup)
    def tenants() -> None:
        """Provision, list, suspend and reinstate tenants."""

    @tenants.command("create")
    @click.argument("slug")
    @click.option("--name", required=True)
    @click.option("--time-zone", default="Asia/Shanghai", show_default=True)
    @click.option("--locale", "locales", multiple=True, help="zh-Hans, zh-Hant or en; repeatable (default: all).")
    @click.option("--plugin", "plugin_names", multiple=True, help="Enable an installed plugin; repeatable.")
    @click.option("--config", "plugin_configs", multiple=True, help="NAME=JSON configuration for a plugin; implies --plugin NAME.")
    def tenants_create(slug: str, name: str, time_zone: str, locales: tuple[str, ...], plugin_names: tuple[str, ...], plugin_configs: tuple[str, ...]) -> None:
        """Provision tenant SLUG."""
        plugins = _parse_plugin_options(plugin_names, plugin_configs)
        tenant = operations.create_tenant(
            db.session, plugin_host(), slug=slug, name=name, time_zone=time_zone, locales=list(locales) or None, plugins=plugins, actor=operations.CLI_ACTOR
        )
        click.echo(f"created tenant {tenant.slug} ({tenant.time_zone}) with plugins: {', '.join(sorted(plugins)) or 'none'}")

    @tenants.command("list")
    @click.option("--json", "as_json", is_flag=True, help="A JSON array of objects: slug, name, status, time_zone, locales, plugins, created_at.")
    def tenants_list(as_json: bool) -> None:
        """List tenants: slug, status, time zone, plugins, name."""
        rows = [
            {
                "slug": tenant.slug,
                "name": tenant.name,
                "status": tenant.status.value,
                "time_zone": tenant.time_zone,
                "locales": list(tenant.locales),
                "plugins": list(operations.enabled_plugins(db.session, tenant)),
                "created_at": _moment(tenant.created_at),
            }
            for tenant in operations.list_tenants(db.session)
        ]
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        _echo_table(
            ("SLUG", "STATUS", "TIME ZONE", "PLUGINS", "NAME"),
            [(row["slug"], row["status"], row["time_zone"], ",".join(row["plugins"]) or "-", row["name"]) for row in rows],
        )

    @tenants.command("suspend")
    @click.argument("slug")
    def tenants_suspend(slug: str) -> None:
        """Suspend tenant SLUG."""
        operations.suspend_tenant(db.session, slug, actor=operations.CLI_ACTOR)
        click.echo(f"suspended tenant {slug}")

    @tenants.command("reinstate")
    @click.argument("slug")
    def tenants_reinstate(slug: str) -> None:
        """Reinstate suspended tenant SLUG."""
        operations.reinstate_tenant(db.session, slug, actor=operations.CLI_ACTOR)
        click.echo(f"reinstated tenant {slug}")

    @tenants.command("add-staff")
    @click.argument("slug")
    @click.argument("username")
    @click.option("--role", type=click.Choice([r.value for r in StaffRole]), default="staff", show_default=True)
    @click.option("--email", help="Create the user with this email if it does not exist.")
    @click.option("--password", help="Password for a new user.")
    def tenants_add_staff(slug: str, username: str, role: str, email: str | None, password: str | None) -> None:
        """Give USERNAME a role at tenant SLUG (creating the user with --email and --password)."""
        operations.add_staff_member(
            db.session,
            current_app.appbuilder.sm,
            tenant_slug=slug,
            username=username,
            role=StaffRole(role),
            email=email,
            password=password,
            actor=operations.CLI_ACTOR,
        )
        click.echo(f"{username} is {role} at {slug}")

    @cli.group("tokens", cls=AppGroup)
    def tokens() -> None:
        """Issue, list and revoke API tokens."""

    @tokens.command("create")
    @click.option("--operator", "is_operator", is_flag=True, help="An operator token (no tenant).")
    @click.option("--tenant", "tenant_slug", help="A staff token for this tenant.")
    @click.option("--role", type=click.Choice([r.value for r in StaffRole]), help="Role of a staff token.  [default: staff]")
    @click.option("--name", required=True, help="What the token is for, e.g. 'ci' or 'front desk'.")
    def tokens_create(is_operator: bool, tenant_slug: str | None, role: str | None, name: str) -> None:
        """Print a new token once; only its digest is stored."""
        if is_operator == bool(tenant_slug):
            raise click.UsageError("give exactly one of --operator or --tenant SLUG")
        if is_operator and role:
            raise click.UsageError("--role is for staff tokens; an operator token has no role")
        kind = TokenKind.operator if is_operator else TokenKind.staff
        _, secret = operations.create_token(
            db.session, kind=kind, name=name, tenant_slug=tenant_slug, role=StaffRole(role or "staff"), actor=operations.CLI_ACTOR
        )
        click.echo(secret)

    @tokens.command("list")
    @click.option("--json", "as_json", is_flag=True, help="A JSON array of objects: id, kind, tenant, role, name, created_at, revoked_at.")
    def tokens_list(as_json: bool) -> None:
        """List tokens, never their secrets: id, kind, tenant, role, created, revoked (or "live"), name."""
        slugs = {tenant.id: tenant.slug for tenant in operations.list_tenants(db.session)}
        rows = [
            {
                "id": token.id,
                "kind": token.kind.value,
                "tenant": slugs.get(token.tenant_id),
                "role": token.role.value if token.role else None,
                "name": token.name,
                "created_at": _moment(token.created_at),
                "revoked_at": _moment(token.revoked_at),
            }
            for token in operations.list_tokens(db.session)
        ]
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        _echo_table(
            ("ID", "KIND", "TENANT", "ROLE", "CREATED", "REVOKED", "NAME"),
            [(row["id"], row["kind"], row["tenant"] or "-", row["role"] or "-", row["created_at"], row["revoked_at"] or "live", row["name"]) for row in rows],
        )

    @tokens.command("revoke")
    @click.argument("token_id", type=click.IntRange(1, 2**63 - 1))
    def tokens_revoke(token_id: int) -> None:
        """Revoke token TOKEN_ID (see tokens list): it stops working at once."""
        operations.revoke_token(db.session, token_id, actor=operations.CLI_ACTOR)
        click.echo(f"revoked token {token_id}")

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True)
    def plugins_command(as_json: bool) -> None:
        """List installed plugins: name, version, hooks, verticals."""
        infos = plugin_host().info()
        if as_json:
            click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
            return
        for info in infos:
            click.echo(f"{info.name} {info.version or '-'}\thooks: {', '.join(info.hooks)}\tverticals: {', '.join(info.verticals) or '-'}")

    @cli.group("plugin", cls=click.Group)
    def plugin() -> None:
        """Tools for plugin authors."""

    @plugin.command("new")
    @click.argument("name")
    @click.option("--directory", type=click.Path(file_okay=False, path_type=Path), help="Where to write it (new or empty).  [default: ./yuyue-NAME]")
    def plugin_new(name: str, directory: Path | None) -> None:
        """Scaffold an installable plugin NAME: a vertical, two behaviour hooks, settings, messages, tests and a README."""
        target = directory or Path(f"yuyue-{name}")
        try:
            written = create_plugin(name, target, (entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP)))
        except ScaffoldError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"wrote {len(written)} files to {target}; next: pip install -e {target} && cd {target} && pytest")

    @cli.group("migrations", cls=AppGroup)
    def migrations() -> None:
        """Developer tools for schema migrations."""

    @migrations.command("revision")
    @click.option("-m", "--message", required=True, help="What the migration does; it names the file.")
    def migrations_revision(message: str) -> None:
        """Autogenerate a migration from the models (database must be at head)."""
        if not message.strip():
            raise click.UsageError("give the migration a message: -m 'what it does'")
        migrate.new_revision(db.engine, message)

    @cli.command("worker")
    @click.option("--workers", default=1, show_default=True, type=click.IntRange(1, MAX_WORKER_THREADS), help="Worker threads running tasks.")
    def worker_command(workers: int) -> None:
        """Run background jobs (expire unpaid holds and waitlist offers, send refunds and reminders) and deliver the outbox."""
        from yuyue.worker import run_worker

        configure_logging()
        run_worker(current_app._get_current_object(), workers=workers)

    @cli.group("bookings", cls=AppGroup)
    def bookings() -> None:
        """Booking maintenance."""

    @bookings.command("expire-holds")
    def bookings_expire_holds() -> None:
        """Expire unpaid holds and unanswered waitlist offers of every active tenant, and send refunds, once, as the worker does each minute."""
        from yuyue.payments.providers import payment_providers
        from yuyue.worker import expire_due

        report = expire_due(db.session, providers=payment_providers())
        for result in report.tenants:
            error = f"\terror: {result.error}" if result.error else ""
            click.echo(f"{result.tenant}\t{result.holds} holds\t{result.offers} offers\t{result.refunds} refunds sent{error}")
        click.echo(f"expired {report.holds} holds and {report.offers} waitlist offers in {len(report.tenants)} tenants")
        if report.failed:
            raise click.ClickException(f"expiry failed for {', '.join(t.tenant for t in report.failed)}")

    @cli.group("customers", cls=AppGroup)
    def customers() -> None:
        """Customer maintenance."""

    @customers.command("purge-logins")
    def customers_purge_logins() -> None:
        """Delete the refresh tokens of logins that have ended, in every tenant, as the worker does each night."""
        from yuyue.customers.sessions import purge_ended_logins
        from yuyue.types import utcnow

        click.echo(f"purged {purge_ended_logins(db.session, now=utcnow())} refresh tokens of ended logins")

    cli.add_command(outbox_cli())
    for command in backup_cli():
        cli.add_command(command)
    for command in tenant_transfer_cli():
        tenants.add_command(command)
    cli.add_command(audit_cli)
    cli.add_command(i18n_cli)
    cli.add_command(secrets_cli())
    (host or make_plugin_host(settings_from_env()["PLUGINS"])).hook.register_commands(cli=cli)
    return cli


def _moment(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC, to the second: what the tables and ``--json`` show."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _cell(value: object) -> str:
    """A value as one table cell: a tab or line break in a name (nothing forbids one) is shown escaped, not obeyed."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(value))


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _echo_table(headers: tuple[str, ...], rows: list[tuple]) -> None:
    """A header row and left-aligned columns two spaces apart; the last column (free text, a name) is not padded.

    The same on a terminal and in a pipe; scripts read ``--json``. No rows: the header alone.
    """
    cells = [headers, *[tuple(_cell(value) for value in row) for row in rows]]
    widths = [max(_width(row[column]) for row in cells) for column in range(len(headers) - 1)]
    for row in cells:
        padded = [text + " " * (width - _width(text)) for text, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*padded, row[-1]]))


def _tenant_id(slug: str | None) -> int | None:
    return None if slug is None else operations.get_tenant(db.session, slug).id


def _parse_moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date or date-time: {value!r}", param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def outbox_cli() -> click.Group:
    """``yuyue outbox status|retry|replay``: what waits, what died and why, and sending again."""
    from yuyue.events import delivery

    @click.group("outbox", cls=AppGroup)
    def outbox() -> None:
        """Inspect the outbox and send deliveries again."""

    @outbox.command("status")
    @click.option("--tenant", "tenant_slug", help="Only this tenant.")
    @click.option("--json", "as_json", is_flag=True)
    def outbox_status(tenant_slug: str | None, as_json: bool) -> None:
        """Events waiting to be fanned out, deliveries by status and kind, the oldest pending, the latest dead ones with their last error."""
        status = delivery.outbox_status(db.session, tenant_id=_tenant_id(tenant_slug))
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(status), indent=2, ensure_ascii=False))
            return
        click.echo(f"events waiting: {status.events_waiting}")
        click.echo("deliveries: " + (", ".join(f"{state} {n}" for state, n in sorted(status.deliveries.items())) or "none"))
        for kind, states in sorted(status.by_kind.items()):
            click.echo(f"  {kind}: " + ", ".join(f"{state} {n}" for state, n in sorted(states.items())))
        oldest = status.oldest_pending_seconds
        click.echo(f"oldest pending: {'-' if oldest is None else f'{oldest:.0f} s'}")
        for dead in status.dead:
            click.echo(f"dead {dead.id}\tevent {dead.event_id} {dead.topic}\t{dead.subscriber}\t{dead.attempts} attempts\t{dead.last_error or ''}")

    @outbox.command("retry")
    @click.option("--tenant", "tenant_slug", help="Only this tenant's deliveries.")
    @click.option("--delivery", "delivery_ids", type=click.IntRange(1, 2**63 - 1), multiple=True, help="A dead delivery's id; repeatable.")
    @click.option("--all-dead", is_flag=True, help="Every dead delivery (of --tenant, or of the installation).")
    def outbox_retry(tenant_slug: str | None, delivery_ids: tuple[int, ...], all_dead: bool) -> None:
        """Send dead deliveries again now, with a fresh retry budget."""
        if bool(delivery_ids) == all_dead:
            raise click.UsageError("give --delivery ID (repeatable) or --all-dead")
        changed = delivery.retry_dead(db.session, tenant_id=_tenant_id(tenant_slug), delivery_ids=delivery_ids, all_dead=all_dead, actor=operations.CLI_ACTOR)
        missed = sorted(set(delivery_ids) - {d.id for d in changed})
        for delivery_id in missed:
            click.echo(f"delivery {delivery_id}: not found or not dead", err=True)
        click.echo(f"{len(changed)} deliveries will be sent again")
        if missed:
            raise click.exceptions.Exit(1)

    @outbox.command("replay")
    @click.option("--event", "event_ids", type=click.IntRange(1, 2**63 - 1), multiple=True, help="An event's id; repeatable.")
    @click.option("--since", help="Events created at or after this ISO 8601 time (UTC unless it says).")
    @click.option("--until", help="Events created before this ISO 8601 time.")
    @click.option("--tenant", "tenant_slug", help="Only this tenant's events.")
    @click.option("--subscriber", "subscriber_prefix", help="Only subscribers starting so: webhook:, webhook:12, notification:, hook:NAME.")
    def outbox_replay(event_ids: tuple[int, ...], since: str | None, until: str | None, tenant_slug: str | None, subscriber_prefix: str | None) -> None:
        """Send the delivered (or dead) deliveries of past events again, with their original message ids."""
        if until and not since:
            raise click.UsageError("--until goes with --since")
        if bool(event_ids) == bool(since):
            raise click.UsageError("give --event ID (repeatable) or --since ISO")
        start, end = _parse_moment(since, "--since"), _parse_moment(until, "--until")
        if start and end and end <= start:
            raise click.BadParameter("must be after --since", param_hint="--until")
        changed = delivery.replay(
            db.session,
            tenant_id=_tenant_id(tenant_slug),
            event_ids=event_ids,
            since=start,
            until=end,
            subscriber_prefix=subscriber_prefix,
            actor=operations.CLI_ACTOR,
        )
        click.echo(f"{len(changed)} deliveries will be sent again")

    return outbox


@contextmanager
def _backup_errors() -> Iterator[None]:
    from yuyue.backup.archive import BackupError

    try:
        yield
    except BackupError as error:
        raise click.ClickException(str(error)) from None


def backup_cli() -> list[click.Command]:
    """``yuyue backup`` and ``yuyue restore``: the whole database into one file and back (docs/backup.md)."""
    from yuyue.backup import operations as backups

    @click.command("backup")
    @with_appcontext
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="The backup file.  [default: YUYUE_BACKUP_DIR/yuyue-<UTC time>.zip]")
    def backup_command(output: Path | None) -> None:
        """Back the database up while it serves: SQLite's online backup or pg_dump, with a manifest and checksum, in one file."""
        output = output or backups.default_output(Path(current_app.config["BACKUP_DIR"]))
        with _backup_errors(), progress_callback("checksumming") as advance:
            made = backups.take_backup(db.engine, output, progress=advance)
        manifest = made.manifest
        try:
            backups.record_backup(db.session, made, actor=operations.CLI_ACTOR)
        except SQLAlchemyError as error:  # a read-only database (a standby): the backup stands, unrecorded
            click.echo(f"warning: the backup is made, but the operator audit chain could not record it: {_one_line(error)}", err=True)
        click.echo(str(made.path))
        click.echo(
            f"backed up {manifest.database} at schema revision {manifest.revision or '-'}: {made.rows} rows in {len(manifest.tables)} tables, "
            f"{made.path.stat().st_size} bytes, sha256 {manifest.sha256}"
        )

    @click.command("restore")
    @with_appcontext
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
    def restore_command(file: Path, yes: bool) -> None:
        """Replace the configured database by backup FILE, upgrade it to this yuyue's schema and verify its audit chains."""
        with _backup_errors():
            manifest = backups.check_restorable(file, db.engine)
            if not yes and backups.holds_data(db.engine):
                raise click.ClickException("the configured database already holds data: pass --yes to replace it with the backup")
            db.session.remove()
            with progress_callback("restoring") as advance:
                backups.restore_database(file, manifest, db.engine, progress=advance)
        click.echo(f"restored {sum(manifest.tables.values())} rows of {manifest.created_at} (schema revision {manifest.revision or '-'})")
        init_database()
        _, head = backups.known_revisions()
        if manifest.revision != head:
            click.echo(f"upgraded the schema from revision {manifest.revision or '-'} to {head}")
        backups.record_restore(db.session, file, manifest, actor=operations.CLI_ACTOR)
        findings, summary = check_everything(db.session)
        db.session.remove()
        if findings:
            for found in findings:
                click.echo(str(found))
            raise click.ClickException(f"audit verify found {len(findings)} problems in the restored database")
        click.echo(f"audit verify: ok: {summary}")

    return [backup_command, restore_command]


def tenant_transfer_cli() -> list[click.Command]:
    """``yuyue tenants export|import``: move one tenant's rows between installations (docs/backup.md)."""
    from yuyue.backup import transfer

    @click.command("export")
    @with_appcontext
    @click.argument("slug")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The export file (a zip).")
    def tenants_export(slug: str, output: Path) -> None:
        """Write tenant SLUG's rows, audit log included, to one file another installation can import."""
        with _backup_errors():
            report = transfer.export_tenant(db.session, slug, output, actor=operations.CLI_ACTOR)
        click.echo(f"exported tenant {slug}: {report.rows} rows in {len(report.tables)} tables to {output}")

    @click.command("import")
    @with_appcontext
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--slug", help="Import under this slug instead of the exported one.")
    def tenants_import(file: Path, slug: str | None) -> None:
        """Load a tenant exported by `yuyue tenants export` as a new tenant, under new ids, and re-baseline its audit chain."""
        with _backup_errors():
            report = transfer.import_tenant(db.session, file, slug=slug, actor=operations.CLI_ACTOR)
        click.echo(f"imported tenant {report.slug}: {report.rows} rows in {len(report.tables)} tables")
        if report.unlinked:
            click.echo(f"{report.unlinked} references to rows of the other installation (such as the staff user who checked a visitor in) are now empty")
        click.echo(f"not carried over: {', '.join(report.left_behind)}; add staff again with `yuyue tenants add-staff`")

    return [tenants_export, tenants_import]


def secrets_cli() -> click.Group:
    """``yuyue secrets rotate|new-key``: the keys that seal merchants' secrets in the database (docs/secrets.md)."""

    @click.group("secrets", cls=AppGroup)
    def secrets_group() -> None:
        """The keys that seal merchants' secrets (payment keys, WeChat AppSecrets, SMTP passwords, webhook secrets)."""

    @secrets_group.command("new-key", with_appcontext=False)
    def secrets_new_key() -> None:
        """Print a fresh key for YUYUE_SECRETS_KEY (put it first, keep the old ones after it, then run `yuyue secrets rotate`)."""
        click.echo(sealing.new_key())

    @secrets_group.command("rotate")
    def secrets_rotate() -> None:
        """Seal every stored secret with the first key of YUYUE_SECRETS_KEY, in one transaction; then the other keys may go."""
        sealer: sealing.Sealer = current_app.extensions[sealing.EXTENSION]
        with db.engine.begin() as connection:
            total = sealing.count_sealed_rows(connection)
            # A bar only for a person watching: cron and CI get the counts alone.
            with progress_callback("sealing") as advance:
                done = itertools.count(1)
                counts = sealing.reseal_all(connection, sealer, on_row=lambda: advance and advance(next(done), total))
        for count in counts:
            clear = f" ({count.were_clear} were in clear text)" if count.were_clear else ""
            click.echo(f"{count.column}\t{count.resealed} sealed{clear}")
        click.echo(f"{sum(c.resealed for c in counts)} secrets sealed with the first of {sealer.key_count} keys")

    return secrets_group


def _demo_worker_log() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "worker.log"


def _start_demo_worker() -> tuple[subprocess.Popen, Path]:
    """``yuyue worker`` as a child process beside the demo's server, told to stop when the server does.

    A child process rather than a thread: the demo becomes gunicorn with ``execv``, which ends every thread of
    this process, and gunicorn's forked workers are restarted at will. The kernel sends the child SIGTERM when
    its parent (gunicorn's master, the same process after ``execv``) exits, and Ctrl+C reaches both.
    """
    log_path = _demo_worker_log()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as output:
        worker = subprocess.Popen([sys.executable, "-m", "yuyue", "worker"], stdout=output, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    _DEMO_WORKERS.append(worker)
    return worker, log_path


# The demo's worker, referenced for as long as this process lives: it runs on after the exec into gunicorn.
_DEMO_WORKERS: list[subprocess.Popen] = []


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG; Linux only
    except (OSError, AttributeError):
        pass


MAX_PORT = 65535
# Far above what a machine serves well, low enough that a typo cannot fork or spawn without end.
MAX_SERVER_WORKERS = 256
MAX_WORKER_THREADS = 64


def _check_bindable(bind: str) -> None:
    """Fail with one line now rather than let gunicorn retry a taken HOST:PORT and print a page of logs."""
    if bind.startswith(("unix:", "fd://")):
        return
    host, sep, port = bind.rpartition(":")
    if not sep:  # a bare host: gunicorn listens on its default port
        host, port = bind, "8000"
    if not port.isdecimal() or int(port) > MAX_PORT:
        raise click.ClickException(f"cannot listen on {bind}: the port must be a number from 0 to {MAX_PORT}")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError as error:  # taken, not ours to take, or a host name that names no address here
            raise click.ClickException(f"cannot listen on {bind}: {error.strerror or error}") from None


def recommended_workers() -> int:
    """gunicorn's advice, 2 × cores + 1 sync workers: a request waits on the database about as long as it computes.

    ``bench/booking_rush.py`` measures with the same number; threads lost to it there (docs/performance.md).
    """
    return 2 * (os.cpu_count() or 1) + 1


def _exec_gunicorn(bind: str, workers: int) -> None:
    """Become gunicorn (``yuyue.serving``); a note first when the rate limits would hold on this node only."""
    if note := _node_limits_note():
        # Under JSON logs stderr is the server's log: the note is a line of it, like every line gunicorn writes after.
        settings = log_settings()
        click.echo(note if settings.format == "text" else format_record("yuyue.serve", logging.WARNING, note, settings), err=True)
    command = gunicorn_command(bind, workers)
    os.execv(command[0], command)


def _node_limits_note() -> str | None:
    """Without Redis the limits are counted on this machine; with PostgreSQL, other nodes may serve the same tenants."""
    config = current_app.config
    if config.get("RATELIMIT_ENABLED") and db.engine.dialect.name != "sqlite" and config["RATELIMIT_STORAGE_URI"].startswith(f"{limit_storage.SCHEME}:"):
        return "note: rate limits are counted on this node only; set YUYUE_REDIS_URL when several nodes serve this database"
    return None


def _one_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# SQLSTATEs of PostgreSQL for a table or column the query names and the database lacks.
_UNDEFINED_TABLE_OR_COLUMN = frozenset({"42P01", "42703"})


def _schema_missing(error: DBAPIError) -> bool:
    """Whether the database was reached but has no yuyue schema, or an older one (``yuyue init`` makes it current)."""
    if getattr(error.orig, "sqlstate", None) in _UNDEFINED_TABLE_OR_COLUMN:
        return True
    return str(error.orig).startswith(("no such table", "no such column"))


def _os_error(error: OSError) -> str:
    """``cannot use PATH: reason``, without Python's ``[Errno N]``."""
    reason = error.strerror or _one_line(error)
    return f"cannot use {error.filename}: {reason}" if error.filename else reason


def _missing_command(error: click.UsageError) -> str:
    """A group named without a command: its commands in one line, where click would print the whole help."""
    ctx = error.ctx
    group = ctx.command if ctx else None
    names = ", ".join(group.list_commands(ctx)) if isinstance(group, click.Group) else ""
    path = ctx.command_path if ctx else "yuyue"
    return f"missing command: {path} COMMAND, one of {names} (`{path} COMMAND --help` tells more)"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes ``error: …`` on one line of stderr.

    Usage mistakes (an unknown option, a bad value, a group without its command) exit 2 as click's do; the rest 1.
    """
    try:
        result = build_cli().main(args=argv, prog_name="yuyue", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as error:
        return error.exit_code
    except click.Abort:
        message, status = "aborted", 1
    except _NO_COMMAND_ERRORS as error:
        message, status = _missing_command(error), error.exit_code
    except click.ClickException as error:
        message, status = error.format_message().replace("\n", " "), error.exit_code
    except sealing.SecretsKeyError as error:
        message, status = str(error), 1
    except DomainError as error:
        details = "; ".join(f"{p.pointer}: {p.message}" for p in error.errors)
        message, status = f"{error.message}{' (' + details + ')' if details else ''}", 1
    except SettingError as error:
        message, status = str(error), 1
    except DBAPIError as error:
        if _schema_missing(error):
            message = f"the database has no yuyue schema or an older one ({_one_line(error)}): run `yuyue init`"
        elif isinstance(error, OperationalError):
            message = f"cannot reach the database: {_one_line(error)}"
        else:
            message = _one_line(error)
        status = 1
    except (PluginLoadError, PluginDeclarationError, SQLAlchemyError) as error:
        message, status = _one_line(error), 1
    except OSError as error:
        message, status = _os_error(error), 1
    except Exception as error:
        # A bug or an environment problem nobody foresaw: still one line, with the traceback on request.
        if os.environ.get("YUYUE_DEBUG"):
            raise
        message, status = f"{type(error).__name__}: {_one_line(error)} (set YUYUE_DEBUG=1 for the traceback)", 1
    click.echo(f"error: {message}", err=True)
    return status


# click 8.2 raises this for a group named without its command (``yuyue tokens``); click 8.1 prints the help itself.
_NO_COMMAND_ERRORS = tuple(filter(None, [getattr(click.exceptions, "NoArgsIsHelpError", None)]))


if __name__ == "__main__":
    sys.exit(main())
