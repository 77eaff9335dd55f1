"""The customer's profile and saved companions, and the download of their data (issue 15).

The same operations as ``PUT …/me/profile``, ``POST …/me/companions``, ``PUT …/me/companions/<id>``,
``DELETE …/me/companions/<id>`` and ``GET …/me/data``. What the server refuses is shown next to the
field it concerns, with what was typed kept. A companion that is not the customer's is a 404 page,
exactly like one that does not exist. Pages are personal: signed in, ``no-store``, CSRF.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.auth import request_now
from yuyue.api.customer_account import personal_data_download
from yuyue.bookings import customer_account
from yuyue.bookings.placement import Actor
from yuyue.customers import operations as customers
from yuyue.customers.models import Companion, Customer
from yuyue.db import db
from yuyue.errors import Conflict, InvalidInput, NotFound
from yuyue.presenting.personal_data import personal_data
from yuyue.privacy.operations import record_download
from yuyue.site.base import current_tenant, site
from yuyue.site.personal import customer_or_login, personal_page

# The fields of the companion form, and the longest value read from each: the operation judges the rest.
COMPANION_FIELDS = ("name", "id_number", "phone", "relation")
LONGEST_INPUT = 200


def _actor(customer: Customer) -> str:
    return str(Actor("customer", customer.id))


def _typed(name: str) -> str:
    return request.form.get(name, "").strip()[:LONGEST_INPUT]


def _field_errors(error: InvalidInput | Conflict) -> dict[str, str]:
    """Each problem by the field it points at (``/id_number`` → ``id_number``), the first one of each."""
    found: dict[str, str] = {}
    for problem in error.errors:
        found.setdefault(problem.pointer.lstrip("/").split("/")[0], str(problem.message))
    return found


# --- profile ----------------------------------------------------------------------------------------


def _profile_page(customer: Customer, *, name: str, errors: dict[str, str] | None = None, saved: bool = False, status: int = 200) -> Response:
    return personal_page("site/profile.html", status=status, customer=customer, name=name, errors=errors or {}, saved=saved)


@site.route("/me/profile", methods=["GET", "POST"], endpoint="my_profile")
def my_profile() -> Response | BaseResponse:
    """GET: the customer's name and phone. POST: change the name."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return _profile_page(customer, name=customer.name or "")
    name = _typed("name")
    try:
        customer_account.rename_customer(db.session, customer, name, actor=_actor(customer))
    except InvalidInput as error:
        return _profile_page(customer, name=name, errors=_field_errors(error), status=422)
    return _profile_page(customer, name=customer.name, saved=True)


@site.get("/me/data", endpoint="my_data")
def my_data() -> Response | BaseResponse:
    """Everything held about the customer, as the JSON file ``GET …/me/data`` sends; recorded as a data request as there."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    download = personal_data_download(personal_data(db.session, current_tenant(), customer, request_now()))
    record_download(db.session, customer, actor=_actor(customer), now=request_now())
    return download


# --- companions -------------------------------------------------------------------------------------


def _companion_values(companion: Companion | None = None) -> dict[str, str]:
    """The form's values: as typed on a POST, else as saved (or empty, for a new one)."""
    if request.method == "POST":
        return {field: _typed(field) for field in COMPANION_FIELDS}
    return {field: (getattr(companion, field) or "") if companion is not None else "" for field in COMPANION_FIELDS}


def _posted_companion() -> dict[str, Any]:
    """The form as the operation takes it: an optional field left empty is not given."""
    values = _companion_values()
    return {field: value for field, value in values.items() if value or field in ("name", "id_number")}


def _companions_page(customer: Customer, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return personal_page(
        "site/companions.html",
        status=status,
        companions=customers.companions(db.session, customer),
        values=values or dict.fromkeys(COMPANION_FIELDS, ""),
        errors=errors or {},
    )


@site.route("/me/companions", methods=["GET", "POST"], endpoint="my_companions")
def my_companions() -> Response | BaseResponse:
    """GET: the saved companions and a form to add one. POST: add it (one with the same ID number is updated, as the API does)."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return _companions_page(customer)
    try:
        customer_account.save_companion(db.session, customer, actor=_actor(customer), **_posted_companion())
    except InvalidInput as error:
        return _companions_page(customer, values=_companion_values(), errors=_field_errors(error), status=422)
    return redirect(url_for("site.my_companions"), code=303)


def _own_companion(customer: Customer, companion_id: int) -> Companion:
    """One of the customer's companions; another's is as absent as a missing one."""
    companion = next((c for c in customers.companions(db.session, customer) if c.id == companion_id), None)
    if companion is None:
        abort(404)
    return companion


@site.route("/me/companions/<row_id:companion_id>", methods=["GET", "POST"], endpoint="edit_companion")
def edit_companion(companion_id: int) -> Response | BaseResponse:
    """GET: the companion's form. POST: save it (fields left empty are cleared)."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    companion = _own_companion(customer, companion_id)
    if request.method == "GET":
        return personal_page("site/companion.html", companion=companion, values=_companion_values(companion), errors={})
    try:
        customer_account.update_companion(db.session, customer, companion_id, actor=_actor(customer), **_posted_companion())
    except (InvalidInput, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 422
        return personal_page("site/companion.html", status=status, companion=companion, values=_companion_values(), errors=_field_errors(error))
    return redirect(url_for("site.my_companions"), code=303)


@site.post("/me/companions/<row_id:companion_id>/remove", endpoint="remove_companion")
def remove_companion(companion_id: int) -> BaseResponse:
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    try:
        customer_account.delete_companion(db.session, customer, companion_id, actor=_actor(customer))
    except NotFound:
        abort(404)
    return redirect(url_for("site.my_companions"), code=303)
