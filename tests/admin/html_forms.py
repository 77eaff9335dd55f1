"""What a browser would post from a page's HTML: the successful controls of its forms, as (name, value) pairs."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._option: dict | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and "name" in a and a.get("type") not in ("submit", "button") and "disabled" not in a:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select" and "name" in a:
            self._select, self._select_value, self._first_option = a["name"], None, None
        elif tag == "option" and self._select is not None:
            self._option = a
            self._text = ""
        elif tag == "textarea" and "name" in a:
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea is not None or self._option is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value = self._option.get("value", self._text)
            if self._first_option is None:
                self._first_option = value
            if "selected" in self._option:
                self._select_value = value
            self._option = None
        elif tag == "select" and self._select is not None:
            self.pairs.append((self._select, self._select_value if self._select_value is not None else self._first_option or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def posted(html: str, **changes: str) -> MultiDict:
    """The form data a browser sends for ``html`` unchanged, with ``changes`` (name → value) typed over it."""
    parser = _Controls()
    parser.feed(str(html))
    data = MultiDict(parser.pairs)
    for name, value in changes.items():
        data.setlist(name, [value])
    return data
