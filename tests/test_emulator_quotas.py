"""The emulator's quotas judge a call by when it arrived, as a front door would."""

from bulk_update.emulator.quotas import Quotas, QuotaSettings


def test_calls_are_judged_at_their_arrival_not_when_a_busy_thread_reads_them() -> None:
    now = [0.0]
    quotas = Quotas(QuotaSettings(write_rate=1.0, write_burst=1.0), clock=lambda: now[0])
    now[0] = 100.0
    # two writes that arrived one second apart, both handled at t=100
    assert quotas.admit("UpdateOpportunity", at=98.5) is None
    assert quotas.admit("UpdateOpportunity", at=99.5) is None
    # without an arrival time the call is judged now: 0.5 s after the last, too soon
    assert quotas.admit("UpdateOpportunity") is not None


def test_an_early_arrival_is_still_throttled() -> None:
    now = [0.0]
    quotas = Quotas(QuotaSettings(write_rate=1.0, write_burst=1.0), clock=lambda: now[0])
    now[0] = 100.0
    assert quotas.admit("UpdateOpportunity", at=99.0) is None
    assert quotas.admit("UpdateOpportunity", at=99.9) is not None
