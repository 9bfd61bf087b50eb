"""Budgeted successive halving (Karnin et al., 2013; Jamieson & Talwalkar, 2016).

``n`` candidates, a wall-clock budget ``B`` and a halving rate ``eta``: the search runs the rounds it
takes to get from ``n`` candidates to one (about ``log_eta n``); each round gets an equal share of what
is left of the budget, split equally among the candidates still in the race, and only the best
``1/eta`` of them go on to the next round, where each gets about ``eta`` times the time. Once one
candidate is left the race is over (it is not trained again alone). When the share per candidate falls below
``min_seconds``, the round is run with fewer candidates (the best so far) instead of starving all of
them; when not even one fits, the search stops. The clock is checked before every training call, so
the budget is exceeded at most by the overrun of a single call."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# train(candidate index, round, seconds) -> (validation score, details)
TrainFn = Callable[[int, int, float], tuple[float, dict[str, Any]]]


@dataclass
class Trial:
    candidate: int
    round: int
    seconds_given: float
    seconds_used: float
    score: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class HalvingResult:
    trials: list[Trial]
    rounds: int  # rounds run
    survivors: list[int]  # candidates of the last round run, best first
    seconds: float
    stopped_for_budget: bool

    def best(self) -> int | None:
        return self.survivors[0] if self.survivors else None

    def last_score(self, candidate: int) -> float | None:
        scores = [t.score for t in self.trials if t.candidate == candidate]
        return scores[-1] if scores else None

    def rounds_reached(self, candidate: int) -> int:
        return max((t.round + 1 for t in self.trials if t.candidate == candidate), default=0)


def successive_halving(
    order: Sequence[int],
    train: TrainFn,
    budget: float,
    *,
    eta: int = 2,
    min_seconds: float = 1.0,
    cost: Callable[[int], float] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> HalvingResult:
    """Race the candidates in ``order`` (best prior estimate first; it decides who is dropped when the
    budget cannot feed everyone) within ``budget`` seconds. Equal scores are ranked by the
    ``"tiebreak"`` value in ``train``'s details (higher is better), then by ``order``.

    ``cost(candidate)``: its seconds per unit of training (e.g. per epoch). A round's time is then
    split in proportion to cost, so that every candidate of the round gets the same amount of
    training and the comparison is between methods, not between their speeds; without it, the time
    is split equally."""
    if eta < 2:
        raise ValueError("eta must be at least 2")
    start = clock()
    alive = list(order)
    trials: list[Trial] = []
    survivors: list[int] = []
    stopped = False
    rnd = 0
    while True:
        left = budget - (clock() - start)
        round_budget = left / _rounds(len(alive), eta)  # the rounds still to come share what is left
        fits = int(round_budget // min_seconds) if min_seconds > 0 else len(alive)
        if fits < 1:
            stopped = True
            break
        if fits < len(alive):
            alive, stopped = alive[:fits], True
        scores: dict[int, float] = {}
        tiebreaks: dict[int, float] = {}
        round_end = clock() + round_budget
        for i, cand in enumerate(alive):
            weights = [cost(c) for c in alive[i:]] if cost is not None else [1.0] * (len(alive) - i)
            share = (round_end - clock()) * weights[0] / sum(weights)
            if share < min_seconds:  # earlier runs overran: borrow from later rounds while there is time
                if budget - (clock() - start) < min_seconds * (len(alive) - i):
                    stopped = True
                    break
                share = min_seconds
            t0 = clock()
            score, details = train(cand, rnd, max(share, min_seconds))
            trials.append(Trial(cand, rnd, share, clock() - t0, score, details))
            scores[cand] = score
            tiebreak = details.get("tiebreak")
            tiebreaks[cand] = (
                float(tiebreak) if tiebreak is not None and math.isfinite(tiebreak) else -math.inf
            )
        if not scores:  # nothing fitted in this round: the previous round's ranking stands
            break
        survivors = sorted(scores, key=lambda c: (-scores[c], -tiebreaks[c], list(order).index(c)))
        alive = survivors[: max(1, math.ceil(len(survivors) / eta))]
        rnd += 1
        if len(alive) <= 1:  # the race is decided: training the winner alone would tell nothing
            break
    return HalvingResult(trials, rnd, survivors, clock() - start, stopped)


def _rounds(n: int, eta: int) -> int:
    """Rounds of training until one of ``n`` candidates is left (at least one round)."""
    rounds, alive = 0, n
    while alive > 1:
        alive, rounds = math.ceil(alive / eta), rounds + 1
    return max(rounds, 1)
