"""`atomic()`: a real Ctrl-C (SIGINT to this process) inside the block lands right after it."""

from __future__ import annotations

import os
import signal

import pytest

from ingest.interrupts import atomic


def test_ctrl_c_inside_the_block_waits_for_its_end():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with atomic():
            steps.append("first half written")
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("second half written")
        steps.append("after the block")  # never reached: the held Ctrl-C lands first
    assert steps == ["first half written", "second half written"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers put back


def test_sigterm_goes_to_the_handler_that_was_there_before():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with atomic():
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_nothing_held_nothing_delivered():
    with atomic():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
