"""The step plan on a simulated machine: exact steps, time budgets met on fast and slow CPUs, true time left."""

import math

import pytest

from stylize.core.settings import Settings, preset
from stylize.gatys.pace import COARSE_PLATEAU, PLATEAU_WINDOW, REPLAN_SHARE, REPLAN_STEPS, Plan, step_cost


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def simulate(settings, full_step, setup_steps=3.0, loss=lambda step: 100.0 / step, jitter=0.0):
    """Run a Plan as the engine does, on a machine whose full-size step takes full_step seconds (smaller scales by
    step_cost) and whose first step at a scale costs setup_steps steps. Returns (plan, seconds, [(elapsed, time
    left, steps so far)] after each step)."""
    clock = Clock()
    plan = Plan(settings, clock)
    last = len(plan.sides) - 1
    seen = []
    for index, side in enumerate(plan.sides):
        if not plan.worth_entering(index) and index != last:
            continue
        pace = full_step * step_cost(side, settings.size) / step_cost(settings.size, settings.size)
        clock.now += (setup_steps - 2) * pace  # building the objective: before the plan enters the scale
        plan.enter(index)
        clock.now += pace  # the first step evaluates twice
        while plan.wants_step():
            clock.now += pace * (1 + jitter * math.sin(7.3 * sum(plan.ran)))  # a pace that wavers step to step
            plan.stepped(loss(sum(plan.ran) + 1))
            seen.append((plan.elapsed(), plan.seconds_left(), sum(plan.ran)))
    return plan, plan.elapsed(), seen


def test_exact_steps_are_taken_exactly():
    settings = Settings(size=64, steps=3, start_size=32, coarse_steps=2)
    plan, _, _ = simulate(settings, full_step=0.5, loss=lambda step: 1.0)  # a flat loss: no plateau without a budget
    assert plan.ran == [2, 2, 3] and plan.planned_steps() == 7


def test_replayed_scale_steps_skip_scales_with_none():
    settings = preset("balanced").as_run([0, 4, 9])
    plan, _, _ = simulate(settings, full_step=0.5)
    assert plan.ran == [0, 4, 9]


@pytest.mark.parametrize("name, budget", [("quick", 15.0), ("balanced", 60.0), ("balanced", 180.0)])
@pytest.mark.parametrize("full_step", [0.6, 2.6])  # bfloat16 on AVX-512, float32 in the AVX2 mimic (512 px)
def test_a_budget_is_met_and_the_time_left_is_true_from_the_fifth_step(name, budget, full_step):
    settings = preset(name, seconds=budget)
    plan, seconds, seen = simulate(settings, full_step)
    assert abs(seconds - budget) <= max(REPLAN_STEPS * full_step, REPLAN_SHARE * budget) + 0.1  # as near as steps allow
    assert plan.ran[-1] >= 1  # the last picture is at the full size
    for elapsed, left, steps in seen:
        if steps >= 5 and steps < sum(plan.ran):
            truth = seconds - elapsed
            assert left == pytest.approx(truth, rel=0.2, abs=0.5), (steps, left, truth)


@pytest.mark.parametrize("full_step", [0.6, 1.1, 2.6, 4.4])  # down to a real AVX2 CPU's float32 step
def test_a_wavering_pace_moves_neither_the_end_nor_the_time_left_by_a_step(full_step):
    for name in ("quick", "balanced", "best"):
        budget = preset(name).seconds
        plan, seconds, seen = simulate(preset(name), full_step, jitter=0.1)
        assert abs(seconds - budget) <= max((REPLAN_STEPS + 0.2) * full_step, REPLAN_SHARE * budget), (name, seconds)
        for elapsed, left, steps in seen:
            if 5 <= steps < sum(plan.ran):
                assert left == pytest.approx(seconds - elapsed, rel=0.2, abs=0.2 * full_step), (name, steps, left)


def test_coarse_scales_keep_to_their_share_and_the_rest_goes_to_the_full_size():
    plan, _, _ = simulate(preset("balanced"), full_step=0.6)
    coarse = plan.ran[:-1]
    assert all(steps <= preset("balanced").coarse_steps for steps in coarse)
    slow, _, _ = simulate(preset("balanced"), full_step=2.6)
    assert slow.ran[-1] < plan.ran[-1] and slow.ran[-1] >= 10


def test_a_slow_machine_skips_a_coarse_scale_it_cant_afford():
    plan, seconds, _ = simulate(preset("balanced", seconds=20.0), full_step=2.6)
    assert 0 in plan.ran[:-1] and seconds <= 20.0 + REPLAN_STEPS * 2.6 and plan.ran[-1] >= 3


def test_a_coarse_scale_hands_over_on_a_plateau_and_a_converged_run_ends_early():
    flat = lambda step: 5.0  # noqa: E731  (what a converged L-BFGS reports, step after step)
    plan, seconds, _ = simulate(preset("balanced"), full_step=0.1, loss=flat)
    assert plan.ran[0] == PLATEAU_WINDOW + 1
    assert plan.ran[-1] == PLATEAU_WINDOW + 1 and seconds < 30
    # A loss still falling by more than COARSE_PLATEAU a step keeps the scale going to its cap
    falling = lambda step: 100.0 * (1 - 2 * COARSE_PLATEAU) ** step  # noqa: E731
    plan, _, _ = simulate(preset("best"), full_step=0.1, loss=falling)
    assert plan.ran[0] == preset("best").coarse_steps


def test_the_plan_counts_from_its_creation_and_estimates_scales_not_reached():
    clock = Clock()
    plan = Plan(preset("balanced"), clock)
    plan.enter(0)
    assert plan.estimated_pace(2) == 0.0  # nothing measured yet
    for _ in range(3):
        clock.now += 0.25
        plan.stepped(1.0)
    assert plan.pace() == pytest.approx(0.25)
    assert plan.estimated_pace(2) == pytest.approx(0.25 * step_cost(512, 512) / step_cost(256, 512))
    assert plan.elapsed() == pytest.approx(0.75)
    assert 0 < plan.fraction() < 0.1
