"""The outbox pump's pacing: it rests while events keep arriving, never otherwise, and not for longer than its limit."""

from __future__ import annotations

import pytest

from yuyue.config import settings_from_env
from yuyue.worker import RushPacing


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_backlog_with_nothing_new_arriving_is_drained_flat_out():
    pacing = RushPacing(0.1, 600, Clock())
    assert [pacing.rest_after(0.5, 4000) for _ in range(5)] == [0.0] * 5


def test_while_events_keep_arriving_the_pump_works_its_share_of_the_time():
    pacing = RushPacing(0.1, 600, Clock())
    pacing.rest_after(0.5, 100)
    assert pacing.rest_after(0.5, 130) == pytest.approx(4.5)  # 0.5 s of work in every 5 s
    assert pacing.rest_after(0.2, 131) == pytest.approx(1.8)
    assert pacing.rest_after(0.2, 131) == 0.0  # nothing new: flat out again


def test_after_its_limit_in_a_row_the_pump_works_flat_out_until_arrivals_stop():
    clock = Clock()
    pacing = RushPacing(0.25, 60, clock)
    pacing.rest_after(1, 1)
    assert pacing.rest_after(1, 2) == pytest.approx(3)
    clock.now += 61
    assert pacing.rest_after(1, 3) == 0.0  # a minute of rush: the messages have waited enough
    assert pacing.rest_after(1, 4) == 0.0
    assert pacing.rest_after(1, 4) == 0.0  # a quiet round ends the rush ...
    assert pacing.rest_after(1, 5) == pytest.approx(3)  # ... and the next one paces again


def test_a_share_of_one_never_rests():
    pacing = RushPacing(1.0, 600, Clock())
    pacing.rest_after(1, 1)
    assert pacing.rest_after(1, 50) == 0.0


def test_the_settings_default_to_a_tenth_for_ten_minutes(tmp_path):
    settings = settings_from_env({"YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": "k"})
    assert (settings["OUTBOX_RUSH_SHARE"], settings["OUTBOX_RUSH_LIMIT_SECONDS"]) == (0.1, 600.0)


@pytest.mark.parametrize("value", ["0", "1.5", "-1", "half", "nan"])
def test_a_share_outside_its_range_stops_start_up_naming_the_setting(tmp_path, value):
    with pytest.raises(ValueError, match="YUYUE_OUTBOX_RUSH_SHARE must be a number from 0.01 to 1"):
        settings_from_env({"YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": "k", "YUYUE_OUTBOX_RUSH_SHARE": value})
