"""Flask-AppBuilder's own views, where yuyue needs them to check what they are given."""

from __future__ import annotations

from flask import abort, request
from flask_appbuilder.security.views import ResetPasswordView
from wtforms import Form

from yuyue.types import MAX_INTEGER

__all__ = ["CheckedResetPasswordView"]


class CheckedResetPasswordView(ResetPasswordView):
    """An administrator sets another user's password (``/resetpassword/form?pk=<user id>``).

    Flask-AppBuilder hands ``pk`` to the database unchecked: without it, or naming no user, the
    reset failed on ``None`` (a 500), and a word was a 500 on PostgreSQL. Here either is a 404.
    """

    def form_post(self, form: Form) -> None:
        pk = request.args.get("pk", "")
        if not (pk.isascii() and pk.isdecimal() and int(pk) <= MAX_INTEGER) or self.appbuilder.sm.get_user_by_id(int(pk)) is None:
            abort(404)
        super().form_post(form)
