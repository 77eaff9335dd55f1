"""A plugin's refusal reads in the customer's language from the catalog the plugin ships in its package."""

from __future__ import annotations

import pytest

from yuyue.presenting.catalogs import package_catalog_path


@pytest.fixture
def yuyue_plugin() -> str:
    return "activity"


@pytest.fixture
def yuyue_settings() -> dict:
    return {"require_email": True}


ANSWERS = {"name": "Li Lei", "mobile": "13800138000", "attendees": 1}


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-Hans", "本活动需要填写电子邮箱"), ("zh-Hant", "本活動需要填寫電子郵件"), ("en", "an email address is required for this event")],
)
def test_a_plugins_field_problem_is_translated_from_its_own_catalog(yuyue_customer, language, message):
    slot = yuyue_customer.first_slot()
    body = {"booking_type": yuyue_customer.booking_type, "starts_at": slot, "answers": ANSWERS, "phone": yuyue_customer.phone}

    response = yuyue_customer.client.post(f"/api/v1/t/{yuyue_customer.tenant}/bookings", json=body, headers={"Accept-Language": language})

    assert response.status_code == 422, response.get_json()
    errors = {error["pointer"]: error for error in response.get_json()["errors"]}
    assert errors["/answers/email"] == {"pointer": "/answers/email", "message": message, "code": "email_required"}


def test_the_message_is_in_the_plugins_catalog_not_the_hosts():
    host = package_catalog_path("yuyue", "zh_Hans").read_text(encoding="utf-8")
    plugin = package_catalog_path("yuyue_activity", "zh_Hans").read_text(encoding="utf-8")

    assert "an email address is required for this event" in plugin
    assert "an email address is required for this event" not in host
