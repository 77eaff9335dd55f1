"""String formats a form field may require (``cn-id-card``, ``cn-mobile``, …), and ID-number helpers.

A format check is a callable ``check(value: str) -> bool``. A check may instead
raise :class:`FormatProblem` to say *why* a value is wrong, with a stable code
and a message a customer understands; validation reports those as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from jsonschema import FormatChecker
from stdnum.cn import ric

__all__ = [
    "BUILTIN_FORMATS",
    "FormatCheck",
    "FormatProblem",
    "age_on",
    "format_checker",
    "id_card_birth_date",
    "is_cn_id_card",
    "is_cn_mobile",
    "is_date",
    "is_date_time",
    "is_email",
    "is_time",
    "is_uri",
    "normalize_id_card",
    "normalize_mobile",
]

FormatCheck = Callable[[str], bool]


class FormatProblem(ValueError):
    """Why a value does not have its format: a stable ``code`` and a ``message`` for the customer."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# --------------------------------------------------------------------------
# Resident identity card numbers (GB 11643-1999)
# --------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-]+")
_ID_CARD_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize_id_card(number: str) -> str:
    """The number as printed on the card: no spaces, upper-case check character."""
    return _SEPARATORS.sub("", number).upper()


def _birth_date_or_problem(number: str) -> date:
    try:
        born = ric.get_birth_date(number)
    except ValueError:
        raise FormatProblem("id_card_birth_date", _l("The date of birth in this ID card number is not a real date; please check it.")) from None
    if born > date.today() or born.year < 1900:
        raise FormatProblem("id_card_birth_date", _l("The date of birth in this ID card number is not possible; please check it."))
    return born


def is_cn_id_card(value: str) -> bool:
    """An 18-character mainland resident ID number with a real birth date and a correct check character.

    The birth place (the first six digits) is not looked up: division codes are
    renumbered over the years and a stale table would turn away real visitors.
    """
    number = normalize_id_card(value)
    if len(number) != 18:
        raise FormatProblem("id_card_length", _l("An ID card number has 18 characters."))
    if not _ID_CARD_SHAPE.match(number):
        raise FormatProblem("id_card_characters", _l("An ID card number has 17 digits followed by a digit or the letter X."))
    if ric.calc_check_digit(number) != number[-1]:
        raise FormatProblem("id_card_checksum", _l("This ID card number is not valid; please check it for a typo."))
    _birth_date_or_problem(number)
    return True


def id_card_birth_date(number: str) -> date:
    """The birth date encoded in a resident ID number.

    :raises FormatProblem: if ``number`` is not a valid ID number.
    """
    is_cn_id_card(number)
    return ric.get_birth_date(normalize_id_card(number))


def age_on(number_or_birth_date: str | date, day: date) -> int:
    """Age in whole years on ``day`` of the person with this ID number (or birth date).

    Someone born on 29 February turns a year older on 1 March in common years.
    """
    born = number_or_birth_date if isinstance(number_or_birth_date, date) else id_card_birth_date(number_or_birth_date)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --------------------------------------------------------------------------
# Mainland mobile numbers
# --------------------------------------------------------------------------

_MOBILE = re.compile(r"^(?:\+86|0086)?(1[3-9]\d{9})$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]+")


def normalize_mobile(number: str) -> str:
    """The 11 digits of a mainland mobile number, without separators or the +86 / 0086 prefix.

    A value that is not a mobile number comes back without separators only.
    """
    compact = _PHONE_SEPARATORS.sub("", number)
    match = _MOBILE.match(compact)
    return match.group(1) if match else compact


def is_cn_mobile(value: str) -> bool:
    """11 digits starting 13–19, optionally after +86 or 0086; spaces and hyphens are ignored."""
    if not _MOBILE.match(_PHONE_SEPARATORS.sub("", value)):
        raise FormatProblem("not_a_mobile_number", _l("Enter an 11-digit mainland China mobile number starting with 13 to 19."))
    return True


# --------------------------------------------------------------------------
# Email, dates and times
# --------------------------------------------------------------------------

# Deliberately simple: one @, no spaces, a dotted domain. Whether the mailbox
# exists is only known by writing to it.
_EMAIL = re.compile(r"^[^@\s]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(?::\d{2})?$")


def is_email(value: str) -> bool:
    if len(value) > 254 or not _EMAIL.match(value):
        raise FormatProblem("not_an_email_address", _l("Enter an email address such as name@example.com."))
    return True


def is_date(value: str) -> bool:
    """A calendar date written YYYY-MM-DD."""
    try:
        if not _DATE.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise FormatProblem("not_a_date", _l("Enter a real date as YYYY-MM-DD.")) from None
    return True


def is_time(value: str) -> bool:
    """A local time of day written HH:MM or HH:MM:SS (24-hour clock, no time zone: the venue's own)."""
    try:
        if not _TIME.match(value):
            raise ValueError
        time.fromisoformat(value)
    except ValueError:
        raise FormatProblem("not_a_time", _l("Enter a time as HH:MM, on the 24-hour clock.")) from None
    return True


def is_date_time(value: str) -> bool:
    """An RFC 3339 date and time with its UTC offset, e.g. 2025-05-01T09:30:00+08:00."""
    try:
        moment = datetime.fromisoformat(value)
        if not _DATE.match(value[:10]) or moment.tzinfo is None:
            raise ValueError
    except ValueError:
        raise FormatProblem("not_a_date_time", _l("Enter a date and time with its time zone, e.g. 2025-05-01T09:30:00+08:00.")) from None
    return True


def is_uri(value: str) -> bool:
    """An absolute web address."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise FormatProblem("not_a_web_address", _l("Enter a web address starting with http:// or https://."))
    return True


BUILTIN_FORMATS: dict[str, FormatCheck] = {
    "cn-id-card": is_cn_id_card,
    "cn-mobile": is_cn_mobile,
    "email": is_email,
    "date": is_date,
    "time": is_time,
    "date-time": is_date_time,
    "uri": is_uri,
}


def format_checker(formats: Mapping[str, FormatCheck]) -> FormatChecker:
    """A jsonschema :class:`FormatChecker` that knows exactly ``formats`` (name → check).

    Checks see only strings; a number where a string belongs is the ``type``
    keyword's problem, not the format's.
    """
    checker = FormatChecker(formats=())
    for name, check in formats.items():
        checker.checks(name, raises=FormatProblem)(_strings_only(check))
    return checker


def _strings_only(check: FormatCheck) -> FormatCheck:
    def checked(value: object) -> bool:
        return not isinstance(value, str) or bool(check(value))

    return checked
