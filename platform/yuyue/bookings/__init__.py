"""The booking lifecycle: hold, confirm, cancel, reschedule, check in, no-show; policies; waitlist; vouchers."""
