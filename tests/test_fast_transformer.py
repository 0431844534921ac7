"""The transformation network: any size in gives the same size out, and a saved network runs identically."""

import numpy as np
import pytest

from stylize.fast.transformer import (
    apply_transformer,
    build_transformer,
    list_trained,
    load_transformer,
    save_transformer,
)


@pytest.fixture(scope="module")
def network():
    import keras

    keras.utils.set_random_seed(1)
    return build_transformer(width=0.25, residual_blocks=1)


@pytest.mark.parametrize("shape", [(33, 47), (16, 17), (64, 64), (50, 35)])
def test_any_size_comes_back_exactly_that_size(network, shape):
    picture = np.random.default_rng(0).uniform(0, 1, (*shape, 3)).astype(np.float32)
    result = apply_transformer(network, picture)
    assert result.dtype == np.uint8 and result.shape == (*shape, 3)


def test_size_sets_the_longer_side(network, content):
    assert apply_transformer(network, content, size=80).shape == (60, 80, 3)
    with pytest.raises(ValueError, match="size is 8 but must be from 64 to 4096"):
        apply_transformer(network, content, size=8)


def test_saved_network_loads_and_gives_identical_pictures(network, content, tmp_path):
    path = tmp_path / "models" / "mine.keras"
    save_transformer(network, path)
    loaded = load_transformer(path)
    assert loaded is load_transformer(path)  # cached per path
    np.testing.assert_array_equal(apply_transformer(loaded, content), apply_transformer(network, content))
    assert list_trained(tmp_path / "models") == {"mine": path}


def test_a_rewritten_file_is_reloaded(network, tmp_path):
    path = tmp_path / "a.keras"
    save_transformer(network, path)
    first = load_transformer(path)
    save_transformer(build_transformer(width=0.25, residual_blocks=2), path)
    assert load_transformer(path) is not first


def test_list_trained_ignores_other_files_and_missing_folders(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".half.part.keras").write_bytes(b"")
    assert list_trained(tmp_path) == {}
    assert list_trained(tmp_path / "nowhere") == {}


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_transformer(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.keras.*could not be loaded"):
        load_transformer(broken)


def test_bfloat16_stays_close_to_float32(network, content):
    full = apply_transformer(network, content).astype(int)
    half = apply_transformer(network, content, precision="bfloat16").astype(int)
    assert np.abs(full - half).mean() < 2.0


def test_auto_precision_runs_what_this_machine_resolves_it_to(network, content):
    from stylize.core.precision import resolve_precision
    from stylize.fast.transformer import traced

    assert traced(network, "auto") is traced(network, resolve_precision("auto"))  # no "mixed_auto" policy
    assert apply_transformer(network, content, precision="auto").shape == content.shape


def test_width_and_blocks_are_checked():
    with pytest.raises(ValueError, match="width is 3 but must be from 0.125 to 2"):
        build_transformer(width=3)
    with pytest.raises(ValueError, match="residual_blocks is 0 but must be from 1 to 10"):
        build_transformer(residual_blocks=0)


def test_width_scales_the_filters():
    assert build_transformer(0.5, 1).count_params() < build_transformer(1.0, 1).count_params() / 3
