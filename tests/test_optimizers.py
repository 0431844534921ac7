"""The optimizers behind one interface: each step yields its losses, pixels stay in [0, 1], Adam carries its moments."""

import numpy as np
import pytest

from stylize import Settings
from stylize.core import images
from stylize.gatys.objective import build_objective
from stylize.gatys.optimizers import LBFGS, Adam, make_optimizer
from stylize.gatys.weights import LossWeights


def objective_for(network, content, style):
    return build_objective(network, content, style, LossWeights(style=10.0, content=1.0, tv=0.1), normalize=True)


@pytest.mark.parametrize("name", ["adam", "lbfgs"])
def test_each_step_yields_its_losses_and_keeps_the_pixels_in_the_box(random_vgg19, content, style, name):
    optimizer = make_optimizer(Settings(optimizer=name))
    losses = list(optimizer.steps(objective_for(random_vgg19, content, style), content, 4))
    assert len(losses) == 4
    assert all(set(step) == {"style", "content", "tv", "total"} for step in losses)
    assert float(losses[-1]["total"]) < float(losses[0]["total"])
    picture = optimizer.current_picture()
    assert picture.shape == content.shape and picture.min() >= 0.0 and picture.max() <= 1.0
    assert np.abs(picture - content).mean() > 1e-3


def test_only_lbfgs_restarts_when_the_objective_is_reweighted():
    assert isinstance(make_optimizer(Settings(optimizer="adam", learning_rate=0.05)), Adam)
    assert make_optimizer(Settings(optimizer="adam", learning_rate=0.05)).learning_rate == 0.05
    assert isinstance(make_optimizer(Settings(optimizer="lbfgs")), LBFGS)
    assert LBFGS.restart_when_reweighted and not Adam.restart_when_reweighted


def test_adam_carries_its_moments_to_the_next_scale(random_vgg19, content, style):
    small = images.resize(content, (24, 32))
    carried = Adam(0.02)
    list(carried.steps(objective_for(random_vgg19, small, style), small, 3))

    def first_step_change(optimizer):
        next(optimizer.steps(objective_for(random_vgg19, content, style), content, 1))
        return np.abs(optimizer.current_picture() - content).mean()

    # Fresh moments make the first step about the full learning rate for every pixel (a sign step), undoing
    # what the smaller scale did; carried ones are already averaged over steps and scale it down.
    fresh = first_step_change(Adam(0.02))
    assert fresh == pytest.approx(0.02, rel=0.05)
    assert first_step_change(carried) < 0.9 * fresh


@pytest.mark.parametrize("memory, iterations", [(5, 12), (3, 40)])
def test_our_lbfgsb_loop_takes_exactly_scipy_minimizes_iterates(memory, iterations):
    import scipy.optimize

    from stylize.gatys.optimizers import lbfgsb_iterates

    rng = np.random.default_rng(1)
    scale, target = rng.uniform(0.5, 3.0, 60), rng.uniform(-0.5, 1.5, 60)  # some optima outside the box

    def value_and_gradient(x):
        difference = x - target
        return float(np.sum(scale * difference**2 + 0.1 * difference**4)), 2 * scale * difference + 0.4 * difference**3

    theirs = []
    scipy.optimize.minimize(
        value_and_gradient,
        np.full(60, 0.5),
        jac=True,
        method="L-BFGS-B",
        bounds=scipy.optimize.Bounds(0.0, 1.0),
        options={"maxiter": iterations, "maxcor": memory},
        callback=lambda intermediate_result: theirs.append(intermediate_result.x.copy()),
    )
    ours = [x.copy() for x in lbfgsb_iterates(value_and_gradient, np.full(60, 0.5), memory, iterations, 10**6)]
    assert len(ours) == len(theirs) >= 5
    for mine, scipys in zip(ours, theirs):
        np.testing.assert_array_equal(mine, scipys)
    assert ours[-1].min() == 0.0 and ours[-1].max() == 1.0  # the box holds where the optimum lies outside it


def test_lbfgsb_makes_no_iterate_where_it_has_already_converged():
    from stylize.gatys.optimizers import lbfgsb_iterates

    flat = list(lbfgsb_iterates(lambda x: (0.0, np.zeros_like(x)), np.full(8, 0.5), 5, 10, 100))
    assert flat == []  # a zero gradient has converged at the start: no iterate
