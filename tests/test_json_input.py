"""The nesting of untrusted JSON is measured on the text, correctly and in one pass, before anything parses it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from yuyue.json_input import JSONInputError, JSONTooDeep, loads, nesting_depth


@pytest.mark.parametrize(
    "text, depth",
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1]}', 2),
        ('["]]]]", "[[[["]', 1),
        (r'["\"[[[", "\\", [2]]', 2),
        (r'{"a\\": [1, "]\"["]}', 2),
    ],
)
def test_brackets_inside_strings_and_escapes_do_not_count_as_nesting(text, depth):
    assert nesting_depth(text) == depth


def test_a_document_deeper_than_the_limit_is_refused_before_parsing():
    with pytest.raises(JSONTooDeep) as refused:
        loads("[" * 10_000 + "]" * 10_000, max_depth=32)

    assert (refused.value.depth, refused.value.limit) == (10_000, 32)


def test_an_unterminated_string_of_a_mebibyte_of_escaped_quotes_is_measured_in_one_pass():
    # Matching escapes inside the string pattern rescanned to the end from every quote: about 30 minutes for this body.
    program = "from yuyue.json_input import nesting_depth; print(nesting_depth('\"' + '\\\\\"' * 500_000))"
    finished = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)

    assert finished.stdout == "0\n"


@pytest.mark.parametrize("text", [r'"\ud800"', r'{"name": "Ann \udfff"}', r'{"\ud83d": 1}', r'["\ude00\ud83d"]'])
def test_a_lone_surrogate_escape_is_refused_as_no_character(text):
    with pytest.raises(JSONInputError, match="lone surrogate"):
        loads(text)


def test_a_surrogate_pair_is_the_one_character_it_names():
    assert loads(r'{"emoji": "\ud83d\ude00"}') == {"emoji": "\N{GRINNING FACE}"}
