"""Who hears of an outbox event and what they are sent: customer notifications from templates, webhook bodies, plugin hooks, reminders.

Above ``presenting`` (a webhook carries the booking as the merchant API shows
it) and below ``worker``, which runs :mod:`yuyue.events.delivery` with the
subscribers defined here (decisions §55).
"""
