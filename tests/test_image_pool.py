import numpy as np
import tensorflow as tf

from cyclegan_tf.image_pool import ImagePool


def _images(start, n=2):
    return np.stack([np.full((4, 4, 3), v, "float32") for v in range(start, start + n)])


def test_pool_returns_its_inputs_while_filling():
    pool = ImagePool(4, (4, 4, 3))
    for start in (0, 2):
        np.testing.assert_array_equal(pool(_images(start)), _images(start))
    assert int(pool.count.numpy()) == 4
    stored = sorted(float(v) for v in pool.images.numpy()[:, 0, 0, 0])
    assert stored == [0, 1, 2, 3]


def test_full_pool_returns_the_input_or_an_older_image_it_swaps_out():
    pool = ImagePool(4, (4, 4, 3))
    step = tf.function(pool.__call__)  # state in variables: works when compiled
    step(_images(0))
    step(_images(2))
    seen_old = 0
    for start in range(4, 40, 2):
        before = set(float(v) for v in pool.images.numpy()[:, 0, 0, 0])
        out = step(_images(start)).numpy()[:, 0, 0, 0]
        allowed = set(before)
        for value, new in zip(out, (start, start + 1), strict=True):
            assert value == new or value in allowed  # images go in one at a time, as official
            seen_old += value != new
            allowed.add(new)
        after = set(float(v) for v in pool.images.numpy()[:, 0, 0, 0])
        assert len(after) == 4 and after <= before | {start, start + 1}
    assert 0 < seen_old < 36  # about half the queries come back from history


def test_pool_of_size_zero_is_the_identity():
    pool = ImagePool(0, (4, 4, 3))
    np.testing.assert_array_equal(pool(_images(7)), _images(7))
    assert pool.weights == []


def test_a_swap_writes_exactly_the_slot_it_returns_and_nothing_else():
    pool = ImagePool(4, (4, 4, 3))
    step = tf.function(pool.__call__)
    step(_images(0, 4))
    swaps = 0
    for value in range(4, 44):
        before = pool.images.numpy()[:, 0, 0, 0].copy()
        out = float(step(_images(value, 1)).numpy()[0, 0, 0, 0])
        after = pool.images.numpy()[:, 0, 0, 0]
        changed = np.flatnonzero(after != before)
        if out == value:  # no swap: the pool is untouched
            assert changed.size == 0
        else:  # swapped: the slot that held `out` now holds the new image, the rest as before
            swaps += 1
            assert changed.size == 1 and before[changed[0]] == out and after[changed[0]] == value
        assert (pool.images.numpy()[:, 1:, 1:] == pool.images.numpy()[:, :1, :1]).all()
    assert 5 < swaps < 35
