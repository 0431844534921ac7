"""Loss terms against values worked out by hand."""

import numpy as np
import tensorflow as tf

from stylize.gatys.losses import content_loss, gram_matrix, style_loss, total_variation_loss, weighted_sum


def test_gram_matrix_of_hand_built_features():
    # 1x2x2x2 features: positions (1,0), (0,1), (1,1), (2,0) over channels (a, b)
    features = tf.constant([[[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [2.0, 0.0]]]])
    # sum a*a = 1+0+1+4 = 6, a*b = 0+0+1+0 = 1, b*b = 0+1+1+0 = 2; divided by 4 positions
    expected = np.array([[[6.0, 1.0], [1.0, 2.0]]]) / 4
    np.testing.assert_allclose(gram_matrix(features).numpy(), expected)


def test_gram_matrix_is_symmetric_and_size_independent():
    rng = np.random.default_rng(0)
    small = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    tiled = np.tile(small, (1, 2, 2, 1))  # the same statistics over 4x the positions
    np.testing.assert_allclose(
        gram_matrix(tf.constant(small)).numpy(), gram_matrix(tf.constant(tiled)).numpy(), rtol=1e-5
    )
    gram = gram_matrix(tf.constant(small)).numpy()[0]
    np.testing.assert_allclose(gram, gram.T, rtol=1e-6)


def test_content_loss_is_mean_squared_difference():
    features = {"c": tf.constant([[[[1.0, 2.0]], [[3.0, 4.0]]]])}
    targets = {"c": tf.zeros((1, 2, 1, 2))}
    assert content_loss(features, targets).numpy() == np.float32((1 + 4 + 9 + 16) / 4)
    assert content_loss(targets, targets).numpy() == 0.0


def test_style_loss_averages_layers_by_default_and_honours_weights():
    grams = {"a": tf.constant([[[2.0]]]), "b": tf.constant([[[0.0]]])}
    targets = {"a": tf.constant([[[0.0]]]), "b": tf.constant([[[3.0]]])}
    assert style_loss(grams, targets).numpy() == np.float32((4 + 9) / 2)
    assert style_loss(grams, targets, {"a": 1.0, "b": 0.0}).numpy() == np.float32(4)


def test_total_variation_of_constant_image_is_zero():
    assert total_variation_loss(tf.fill((1, 8, 8, 3), 0.7)).numpy() == 0.0


def test_total_variation_of_checkerboard():
    # an n x n checkerboard of 0/1 has (n-1)*n differing neighbours in each direction, each of size 1, per channel
    n = 6
    board = (np.indices((n, n)).sum(axis=0) % 2).astype(np.float32)
    image = np.repeat(board[None, :, :, None], 3, axis=-1)
    assert total_variation_loss(tf.constant(image)).numpy() == 2 * (n - 1) * n * 3


def test_weighted_sum_weighs_each_term_by_name_and_adds_them():
    terms = {"style": tf.constant(2.0), "content": tf.constant(3.0), "tv": tf.constant(5.0)}
    weights = {"tv": 0.25, "style": 10.0, "content": tf.Variable(0.5)}  # any order; variables too
    weighted = weighted_sum(terms, weights)
    assert list(weighted) == ["style", "content", "tv", "total"]
    # 10 * 2 = 20, 0.5 * 3 = 1.5, 0.25 * 5 = 1.25; total 22.75
    assert {name: float(value) for name, value in weighted.items()} == {
        "style": 20.0,
        "content": 1.5,
        "tv": 1.25,
        "total": 22.75,
    }
    assert float(terms["style"]) == 2.0  # the terms themselves are left alone
