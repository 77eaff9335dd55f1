"""Formats: resident ID numbers (GB 11643), mainland mobile numbers, email, dates and times."""

from datetime import date

import pytest

from yuyue.forms.formats import (
    FormatProblem,
    age_on,
    id_card_birth_date,
    is_cn_id_card,
    is_cn_mobile,
    is_date,
    is_date_time,
    is_email,
    is_time,
    is_uri,
    normalize_id_card,
    normalize_mobile,
)

# Check characters computed with the GB 11643 weights.
VALID_ID = "11010519491231002X"
VALID_ID_DIGIT = "440306199003071232"
LEAP_DAY_ID = "110105201202290012"  # born 29 February 2012
NO_LEAP_DAY_ID = "11010520130229001X"  # "born" 29 February 2013, right check character
MONTH_31_ID = "110105194902310026"  # "born" 31 February 1949, right check character
FUTURE_ID = "310101205001010010"  # born in 2050, right check character


def problem_code(check, value):
    with pytest.raises(FormatProblem) as caught:
        check(value)
    return caught.value.code


@pytest.mark.parametrize("number", [VALID_ID, VALID_ID_DIGIT, LEAP_DAY_ID])
def test_id_number_with_right_check_character_and_real_birth_date_is_valid(number):
    assert is_cn_id_card(number)


def test_id_number_with_lower_case_x_is_valid():
    assert is_cn_id_card(VALID_ID.lower())


def test_id_number_is_normalized_to_upper_case_without_spaces():
    assert normalize_id_card(" 110105 19491231 002x ") == VALID_ID


def test_id_number_with_a_typo_fails_the_checksum():
    typo = VALID_ID[:5] + "6" + VALID_ID[6:]
    assert problem_code(is_cn_id_card, typo) == "id_card_checksum"


def test_id_number_with_wrong_check_character_fails_the_checksum():
    assert problem_code(is_cn_id_card, VALID_ID[:-1] + "3") == "id_card_checksum"


@pytest.mark.parametrize("number", [NO_LEAP_DAY_ID, MONTH_31_ID])
def test_id_number_with_impossible_birth_date_is_refused_even_with_right_checksum(number):
    assert problem_code(is_cn_id_card, number) == "id_card_birth_date"


def test_id_number_born_in_the_future_is_refused():
    assert problem_code(is_cn_id_card, FUTURE_ID) == "id_card_birth_date"


@pytest.mark.parametrize("number", ["11010519491231002", "11010519491231002X1", "110105491231002"])
def test_id_number_of_wrong_length_is_refused(number):
    assert problem_code(is_cn_id_card, number) == "id_card_length"


def test_id_number_with_a_letter_inside_is_refused():
    assert problem_code(is_cn_id_card, "1101051949X231002X") == "id_card_characters"


def test_birth_date_is_read_from_the_id_number():
    assert id_card_birth_date(VALID_ID.lower()) == date(1949, 12, 31)


def test_birth_date_of_an_invalid_id_number_is_refused():
    with pytest.raises(FormatProblem):
        id_card_birth_date(VALID_ID[:-1] + "3")


def test_age_counts_whole_years_and_turns_on_the_birthday():
    assert age_on(VALID_ID_DIGIT, date(2026, 3, 6)) == 35
    assert age_on(VALID_ID_DIGIT, date(2026, 3, 7)) == 36


def test_age_accepts_a_birth_date():
    assert age_on(date(2012, 2, 29), date(2030, 2, 28)) == 17
    assert age_on(date(2012, 2, 29), date(2030, 3, 1)) == 18


@pytest.mark.parametrize("number", ["13800138000", "19912345678", "+8613800138000", "008613800138000", "138 0013 8000", "+86 138-0013-8000"])
def test_mainland_mobile_number_is_valid(number):
    assert is_cn_mobile(number)


@pytest.mark.parametrize("number", ["12800138000", "1380013800", "138001380001", "02012345678", "+8513800138000", "1380013800a", "86 13800138000"])
def test_other_numbers_are_not_mobile_numbers(number):
    assert problem_code(is_cn_mobile, number) == "not_a_mobile_number"


def test_mobile_number_is_normalized_to_its_eleven_digits():
    assert normalize_mobile("+86 138-0013-8000") == "13800138000"
    assert normalize_mobile("0086 13800138000") == "13800138000"


@pytest.mark.parametrize("address", ["name@example.com", "zhang.san+museum@mail.example.cn"])
def test_email_address_is_valid(address):
    assert is_email(address)


@pytest.mark.parametrize("address", ["name", "name@", "@example.com", "name@example", "na me@example.com", "name@@example.com"])
def test_malformed_email_address_is_refused(address):
    assert problem_code(is_email, address) == "not_an_email_address"


def test_date_is_written_year_month_day():
    assert is_date("2024-02-29")
    assert problem_code(is_date, "2023-02-29") == "not_a_date"
    assert problem_code(is_date, "20240229") == "not_a_date"
    assert problem_code(is_date, "29/02/2024") == "not_a_date"


def test_time_is_a_local_time_of_day():
    assert is_time("09:30") and is_time("23:59:59")
    assert problem_code(is_time, "24:00") == "not_a_time"
    assert problem_code(is_time, "9:30") == "not_a_time"


def test_date_time_needs_its_offset():
    assert is_date_time("2025-05-01T09:30:00+08:00")
    assert problem_code(is_date_time, "2025-05-01T09:30:00") == "not_a_date_time"


def test_uri_is_an_absolute_web_address():
    assert is_uri("https://example.com/terms")
    assert problem_code(is_uri, "example.com") == "not_a_web_address"
