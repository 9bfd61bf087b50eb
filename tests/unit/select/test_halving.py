"""Budgeted successive halving on a simulated clock: the budget holds, the best candidate wins."""

from __future__ import annotations

import pytest

from tuneforge.select.halving import successive_halving


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _trainer(clock: FakeClock, quality: list[float], overrun: float = 0.0, calls=None):
    """Uses exactly the seconds it is given (plus ``overrun``); the score grows with time towards the
    candidate's quality, so longer training separates the candidates better."""

    def train(cand: int, rnd: int, seconds: float):
        clock.now += seconds + overrun
        if calls is not None:
            calls.append((cand, rnd, seconds))
        return quality[cand] * seconds / (seconds + 10.0), {}

    return train


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("budget", [30.0, 100.0, 1000.0])
def test_budget_is_respected_and_the_best_candidate_wins(n, budget):
    clock = FakeClock()
    quality = [0.5 + 0.05 * ((i * 7) % n) for i in range(n)]
    result = successive_halving(
        list(range(n)), _trainer(clock, quality), budget, min_seconds=1.0, clock=clock
    )
    assert result.seconds <= budget + 1e-9
    assert clock.now <= budget + 1e-9
    assert result.best() == max(range(n), key=lambda i: quality[i])


def test_rounds_halve_the_field_and_double_the_time():
    clock, calls = FakeClock(), []
    successive_halving(
        list(range(8)), _trainer(clock, [0.1 * i for i in range(8)], calls=calls), 240.0, clock=clock
    )
    per_round = {}
    for cand, rnd, seconds in calls:
        per_round.setdefault(rnd, []).append((cand, seconds))
    assert [len(v) for v in per_round.values()] == [8, 4, 2]
    assert per_round[0][0][1] == pytest.approx(10.0)  # 240 s / 3 rounds / 8 candidates
    assert per_round[1][0][1] == pytest.approx(20.0)
    assert sorted(c for c, _ in per_round[2]) == [6, 7]


def test_too_small_a_budget_races_fewer_candidates_in_prior_order():
    clock, calls = FakeClock(), []
    result = successive_halving(
        [3, 1, 0, 2], _trainer(clock, [0.9, 0.8, 0.7, 0.6], calls=calls), 10.0, min_seconds=4.0, clock=clock
    )
    assert result.stopped_for_budget
    assert [c for c, _, _ in calls] == [3]  # 10 s / 2 rounds: one candidate of 4 s fits
    assert clock.now <= 10.0


def test_no_time_at_all_trains_nothing():
    clock = FakeClock()
    result = successive_halving([0, 1], _trainer(clock, [0.5, 0.6]), 0.5, min_seconds=1.0, clock=clock)
    assert result.trials == [] and result.best() is None and result.stopped_for_budget


def test_overruns_of_a_call_are_taken_from_the_candidates_after_it():
    clock = FakeClock()
    result = successive_halving(
        list(range(4)),
        _trainer(clock, [0.4, 0.3, 0.2, 0.1], overrun=2.0),
        100.0,
        min_seconds=1.0,
        clock=clock,
    )
    # each call overruns by 2 s; later shares shrink to absorb it, so the total stays near the budget
    assert clock.now <= 100.0 + 2.0
    assert result.best() == 0


def test_the_last_survivor_is_not_trained_alone_and_the_budget_is_used():
    clock, calls = FakeClock(), []
    # 6 candidates, but only 4 fit the first round: 4 -> 2 -> decided, and the 2 share the rest
    result = successive_halving(
        list(range(6)), _trainer(clock, [0.6, 0.5, 0.4, 0.3, 0.2, 0.1], calls=calls), 255.0, min_seconds=20.0,
        clock=clock,
    )  # fmt: skip
    assert [rnd for _, rnd, _ in calls] == [0, 0, 0, 0, 1, 1]
    assert result.rounds == 2 and result.best() == 0
    assert clock.now == pytest.approx(255.0)


def test_shares_follow_cost_so_every_candidate_gets_the_same_training():
    clock, calls = FakeClock(), []
    speed = {0: 1.0, 1: 3.0, 2: 1.0, 3: 3.0}  # seconds per unit of training
    successive_halving(
        [0, 1, 2, 3], _trainer(clock, [0.4, 0.3, 0.2, 0.1], calls=calls), 160.0, cost=speed.__getitem__,
        clock=clock,
    )  # fmt: skip
    first = {c: s for c, rnd, s in calls if rnd == 0}
    units = {c: first[c] / speed[c] for c in first}
    assert max(units.values()) == pytest.approx(min(units.values()))  # equal training per candidate
    assert sum(first.values()) == pytest.approx(80.0)  # 160 s over two rounds


def test_equal_scores_go_to_the_better_tiebreak_then_to_the_prior_order():
    clock = FakeClock()
    tiebreak = {0: -0.9, 1: -0.4, 2: None, 3: -0.4}  # e.g. minus the validation loss

    def train(cand: int, rnd: int, seconds: float):
        clock.now += seconds
        details = {} if tiebreak[cand] is None else {"tiebreak": tiebreak[cand]}
        return 0.8, details  # every candidate reaches the same accuracy

    result = successive_halving([0, 1, 2, 3], train, 100.0, clock=clock)
    # 1 and 3 share the best tiebreak: the prior order decides between them; 2 has none and is last
    assert result.survivors == [1, 3]
    first = [t.candidate for t in result.trials if t.round == 0]
    assert sorted(first) == [0, 1, 2, 3]
