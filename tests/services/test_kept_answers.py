"""KeptAnswers: an answer is kept for at most its max age, read once when many ask at the same
moment, and forgotten — with any answer being read at that moment — by clear()."""

from __future__ import annotations

import threading
import time

from nengtan.services import kept_answers
from nengtan.services.kept_answers import KeptAnswers


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counter():
    calls = []

    def read():
        calls.append(1)
        return {"n": len(calls)}

    return calls, read


def test_an_answer_is_kept_for_its_max_age_and_read_again_after(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(kept_answers.time, "monotonic", clock)
    kept = KeptAnswers(30)
    calls, read = counter()
    assert kept.get("a", read) == {"n": 1}
    clock.now += 30
    assert kept.get("a", read) == {"n": 1} and len(calls) == 1
    clock.now += 0.001
    assert kept.get("a", read) == {"n": 2}
    assert kept.get("b", read) == {"n": 3}  # another key, another answer


def test_max_age_zero_reads_every_time():
    kept = KeptAnswers(0)
    calls, read = counter()
    for _ in range(3):
        kept.get("a", read)
    assert len(calls) == 3 and len(kept) == 0


def test_clear_forgets_the_answers_and_the_one_being_read():
    kept = KeptAnswers(60)
    calls, read = counter()
    kept.get("a", read)
    kept.clear()
    assert kept.get("a", read) == {"n": 2}

    def read_across_a_write():
        kept.clear()  # a write commits while this answer is being read
        return "old"

    assert kept.get("b", read_across_a_write) == "old"
    assert kept.get("b", lambda: "new") == "new"  # the old one was not kept


def test_many_asking_at_once_read_once():
    kept = KeptAnswers(60)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        release.wait(10)
        return "answer"

    got = []
    threads = [threading.Thread(target=lambda: got.append(kept.get("k", slow)))
               for _ in range(8)]
    for th in threads:
        th.start()
    assert started.wait(10)
    time.sleep(0.05)  # the others are waiting for the first (no timing is asserted)
    release.set()
    for th in threads:
        th.join(10)
    assert got == ["answer"] * 8 and len(calls) == 1


def test_the_least_recently_used_go_beyond_the_size():
    kept = KeptAnswers(60, size=2)
    calls, read = counter()
    kept.get("a", read)
    kept.get("b", read)
    kept.get("a", read)  # a is now the most recent
    kept.get("c", read)  # b goes
    assert len(kept) == 2
    assert kept.get("a", read) == {"n": 1}
    assert kept.get("b", read) == {"n": 4}
