"""How many steps a run takes at each scale: exactly the steps asked for, or as many as fit a time budget at the
pace this machine shows, measured as the run goes; and how long is left."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

from ..core.settings import Settings

# A step's cost grows with its pixel count, plus a fixed part (measured: 0.15, 0.25 and 0.42 s a step at 256, 362
# and 512 px), so scales not reached yet are estimated from the pace at the current one by this model.
STEP_OVERHEAD = 0.15  # a step's fixed cost, as a share of a full-size step's

# The scales below the full size share this part of a time budget, split equally; the full size takes the rest and
# whatever they leave. Judged curves (bench/quality.py, style match against wall time, in this plan's commit): a
# coarse scale's style match rises over its first 4-6 steps and then barely moves, while the full size keeps
# sharpening; a coarse scale that can't afford ENTRY_STEPS is skipped (the next one starts from the upsampled
# picture), which is what keeps quick's 15 s for the full size on a slow CPU.
COARSE_SHARE = 0.25
ENTRY_STEPS = 3  # entering a scale (its targets, the picture resized, a first step) costs about 3 steps' time
# L-BFGS's first iteration at a scale evaluates the picture twice (its line search has no curvature to go on yet).
FIRST_STEP_EVALUATIONS = {"lbfgs": 2, "adam": 1}
# A scale has stopped changing when its loss fell by less than this share per step over the last PLATEAU_WINDOW
# steps: coarse scales hand over early (the full size refines what they would), the full size only when the
# picture is all but still (a converged L-BFGS reports the same loss again).
PLATEAU_WINDOW = 5
COARSE_PLATEAU = 0.02
FULL_PLATEAU = 0.0005
FINISH_SECONDS = 0.05  # after the last step: the final record and its picture
# The full size's step count is decided again when it would miss the budget by more than this many steps or this
# share of the budget: each re-decision moves the time left shown by a whole step.
REPLAN_STEPS, REPLAN_SHARE = 1.0, 0.03
PACE_WINDOW = 9  # a scale's pace is the median of its last steps: a step's time wavers by about 10% (bench/speed.py)


def step_cost(side: int, size: int) -> float:
    """A step's cost at longer side `side`, in full-size steps."""
    return STEP_OVERHEAD + (side / size) ** 2


class Plan:
    """Decides, step by step, whether a run takes another step at its current scale, and says how long is left.

    Without a time budget it takes exactly the settings' steps. With one (settings.seconds), each scale below the
    full size has a deadline at its share of the budget and the full size's is the budget; a step is taken when
    the pace measured at this scale (the median of its last steps, the first left out: it evaluates twice) says
    it ends before the deadline; the full size takes the steps that end nearest the budget (_plan_end). Time
    counts from `started` (the click, by the same clock), else from now.
    """

    def __init__(
        self, settings: Settings, clock: Callable[[], float] = time.perf_counter, started: float | None = None
    ):
        self.settings, self.clock = settings, clock
        self.sides = settings.sides()
        self.most = [steps for _, steps in settings.schedule()]  # exact counts, or each scale's cap under a budget
        self.budget = settings.seconds
        self.start = clock() if started is None else started  # the click, when the caller knows when it was
        self.ran: list[int] = []  # steps taken at each scale entered so far
        self._durations: list[float] = []  # this scale's step times, the first (set-up) one included
        self._losses: list[float] = []  # this scale's losses since it was entered or re-weighted
        self._paces: dict[int, float] = {}  # a scale's measured pace, by index, for the time left
        self._last = self.start
        self._end: int | None = None  # under a budget, the full size's planned step count (see _plan_end)

    @property
    def timed(self) -> bool:
        return self.budget is not None

    @property
    def scale(self) -> int:
        return len(self.ran) - 1

    def elapsed(self) -> float:
        return self.clock() - self.start

    def deadline(self, index: int) -> float:
        """Seconds from the start by which scale index must end."""
        assert self.budget is not None  # deadlines are asked under a time budget only (self.timed)
        if index == len(self.sides) - 1:
            return self.budget - FINISH_SECONDS
        return self.budget * COARSE_SHARE * (index + 1) / (len(self.sides) - 1)

    def worth_entering(self, index: int) -> bool:
        """Whether scale index gets any steps: always without a budget or at the full size; under a budget, the
        first scale, and a later coarse one that can afford ENTRY_STEPS before its deadline."""
        if not self.timed or index == len(self.sides) - 1 or not self.ran:
            return self.most[index] > 0
        return self.elapsed() + ENTRY_STEPS * self.estimated_pace(index) <= self.deadline(index)

    def enter(self, index: int) -> None:
        """Scale index's steps start now (its objective built: the deadlines count that, the pace doesn't)."""
        self.ran += [0] * (index - len(self.ran)) + [0]  # skipped scales took 0 steps
        self._durations, self._losses, self._last = [], [], self.clock()

    def stepped(self, loss: float) -> None:
        """One step at the current scale has ended, with this loss."""
        now = self.clock()
        self._durations.append(now - self._last)
        self._last = now
        self._losses.append(loss)
        self.ran[-1] += 1
        if len(self._durations) > 1:
            self._paces[self.scale] = self.pace()
        if self.timed and self.scale == len(self.sides) - 1:
            self._plan_end()

    def _plan_end(self) -> None:
        """Decide how many steps the full size takes in all: as many as end nearest the budget, before or after
        it (a 2.5 s step would otherwise end a 15 s budget anywhere from 12.5 s on). Decided again only when the
        steps decided would end further from the budget than REPLAN_STEPS or REPLAN_SHARE allow, so that the time
        left shown doesn't flip by a whole step near the end as the pace wavers."""
        pace, taken, now, budget = self.pace(), self.ran[-1], self.elapsed(), self.deadline(len(self.sides) - 1)
        miss = abs(now + (self._end - taken) * pace - budget) if self._end is not None else math.inf
        if miss > max(REPLAN_STEPS * pace, REPLAN_SHARE * budget):
            self._end = taken + max(0, math.floor((budget - now) / pace + 0.5))

    def reweighted(self) -> None:
        """The loss weights changed: the loss before and after can't be compared for a plateau."""
        self._losses = []

    def pace(self) -> float:
        """Seconds a step takes at the current scale: the median of its last PACE_WINDOW steps after the first; after
        one step, the pace measured at another scale scaled by pixel count, else the first step's time over the
        evaluations it made."""
        measured = self._durations[1:][-PACE_WINDOW:]
        if measured:
            return statistics.median(measured)
        if self._paces:
            return self._scaled(self._paces, self.scale)
        first = FIRST_STEP_EVALUATIONS[self.settings.optimizer]
        return self._durations[0] / first if self._durations else math.inf

    def estimated_pace(self, index: int) -> float:
        """A scale's pace: measured where it has been, else scaled by pixel count from the nearest measured one
        (or from the current scale's first step); 0.0 before any step."""
        if index in self._paces:
            return self._paces[index]
        if self._paces:
            return self._scaled(self._paces, index)
        if self._durations:
            return self._scaled({self.scale: self.pace()}, index)
        return 0.0

    def _scaled(self, paces: dict[int, float], index: int) -> float:
        known = min(paces, key=lambda measured: abs(measured - index))
        size = self.settings.size
        return paces[known] * step_cost(self.sides[index], size) / step_cost(self.sides[known], size)

    def plateaued(self) -> bool:
        window = self._losses[-PLATEAU_WINDOW - 1 :]
        if len(window) <= PLATEAU_WINDOW:
            return False
        limit = FULL_PLATEAU if self.scale == len(self.sides) - 1 else COARSE_PLATEAU
        # Written so that a NaN (an optimizer with no losses to report: converged at once) counts as a plateau.
        return not (window[0] - window[-1]) / PLATEAU_WINDOW > limit * abs(window[-1])

    def wants_step(self) -> bool:
        """Whether the current scale takes another step."""
        taken = self.ran[-1]
        if taken >= self.most[self.scale]:
            return False
        if not self.timed or taken == 0:  # a scale entered takes at least one step
            return True
        if self.plateaued():
            return False
        if self.scale == len(self.sides) - 1:
            assert self._end is not None  # set by stepped() at the full size, which has taken a step here
            return taken < self._end
        return self.elapsed() + self.pace() <= self.deadline(self.scale)

    def steps_left_here(self) -> int:
        """The most steps the current scale may still take (the optimizer is asked for these)."""
        return self.most[self.scale] - self.ran[-1]

    def planned_steps(self) -> int:
        """All steps: taken, and as many still to come as the plan expects (exact without a budget)."""
        if not self.timed:
            return sum(self.most)
        now, taken = self.elapsed(), sum(self.ran)
        for index in range(max(self.scale, 0), len(self.sides)):
            pace = self.estimated_pace(index) if index != self.scale else self.pace()
            if not pace or math.isinf(pace):
                continue
            begins = now if index == self.scale else max(now, self.deadline(index - 1) if index else 0.0)
            here = self.ran[-1] if index == self.scale else 0
            fit = max(0, math.floor((self.deadline(index) - begins) / pace))
            if index == self.scale == len(self.sides) - 1 and self._end is not None:
                fit = self._end - here
            taken += min(self.most[index] - here, fit)
        return taken

    def seconds_left(self) -> float | None:
        """Seconds until the last picture. Under a budget: at the full size, the time the steps the plan still
        takes (_plan_end); before it, the budget (the full size ends near it, before or after).
        Without one: the steps left at the pace of the steps so far (None until there is a pace)."""
        last = len(self.sides) - 1
        if self.timed:
            pace = self.pace() if self.scale == last else self.estimated_pace(last)
            if not pace or math.isinf(pace):
                return None
            now = self.elapsed()
            if self.scale == last:  # asked before a step the plan has decided on: at least that one is left
                assert self._end is not None  # the full size's first step decides it; the loop asks after that
                return max(1, min(self.steps_left_here(), self._end - self.ran[-1])) * pace + FINISH_SECONDS
            return max(0.0, self.deadline(last) - now)
        if not self._paces and len(self._durations) < 2:
            return None
        pace = self.pace()
        size, here = self.settings.size, step_cost(self.sides[self.scale], self.settings.size)
        left = (self.most[self.scale] - self.ran[-1]) * pace
        left += sum(
            steps * pace * step_cost(side, size) / here
            for side, steps in zip(self.sides[self.scale + 1 :], self.most[self.scale + 1 :])
        )
        return left

    def fraction(self) -> float:
        """The share of the run done: of its time under a budget, of its steps' work (weighted by pixels) else."""
        left = self.seconds_left()
        if self.timed or left is not None:
            elapsed = self.elapsed()
            return elapsed / (elapsed + left) if left is not None and elapsed + left > 0 else 0.0
        size = self.settings.size
        costs = [step_cost(side, size) * steps for side, steps in zip(self.sides, self.most)]
        done = sum(step_cost(side, size) * steps for side, steps in zip(self.sides, self.ran))
        return done / sum(costs)
