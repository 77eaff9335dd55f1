"""The timed scenic-area entry vertical's declaration files are valid and agree with each other."""

from yuyue.testing import check_vertical_declaration


def test_the_declaration_is_valid_and_agrees_with_itself():
    check_vertical_declaration("yuyue_scenic")
