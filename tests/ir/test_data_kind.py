"""The data kinds answer what layers and backends ask: ranks, size names, MATLAB's and PyTorch's axes."""

from __future__ import annotations

import pytest

from netspec.ir import FEATURE, IMAGE, IMAGE_SEQUENCE, KINDS, SEQUENCE, DataKind
from netspec.ir.shape import Shape


def test_sizes_read_as_users_write_them():
    assert [(kind.name, kind.rank, kind.spatial_dims, kind.size_names) for kind in KINDS] == [
        ("image", 3, 2, "H W C"), ("sequence", 2, 1, "T C"), ("feature", 1, 0, "C"),
        ("image sequence", 4, 3, "T H W C")]
    assert [kind.torch_layout for kind in KINDS] == ["NCHW", "NCT", "NC", "NCTHW"]
    assert [kind.time for kind in KINDS] == [False, True, False, True]


@pytest.mark.parametrize("rank, kind", [(4, IMAGE_SEQUENCE), (3, IMAGE), (2, SEQUENCE), (1, FEATURE), (5, None),
                                        (0, None)])
def test_kind_of_a_size(rank, kind):
    assert DataKind.of_rank(rank) is kind


@pytest.mark.parametrize("kind, matlab_dim, axis, torch_dim", [
    (IMAGE, 1, 0, 2), (IMAGE, 2, 1, 3), (IMAGE, 3, 2, 1),
    (SEQUENCE, 1, 1, 1), (SEQUENCE, 2, None, None),
    (FEATURE, 1, 0, 1), (FEATURE, 2, None, None),
    (IMAGE_SEQUENCE, 1, 1, 3), (IMAGE_SEQUENCE, 2, 2, 4), (IMAGE_SEQUENCE, 3, 3, 1), (IMAGE_SEQUENCE, 4, None, None),
])
def test_matlab_dimensions_and_torch_axes(kind, matlab_dim, axis, torch_dim):
    """MATLAB numbers H, W, C for images and C first otherwise; PyTorch puts channels at 1."""
    assert kind.matlab_dims.get(matlab_dim) == axis
    if axis is not None:
        assert kind.torch_axis(axis) == torch_dim


def test_torch_order_puts_channels_first():
    assert IMAGE_SEQUENCE.torch_order((7, 28, 24, 3)) == (3, 7, 28, 24)
    assert IMAGE.torch_order((224, 200, 3)) == (3, 224, 200)
    assert SEQUENCE.torch_order((50, 8)) == (8, 50)
    assert FEATURE.torch_order((10,)) == (10,)


def test_shapes_carry_the_kind_objects():
    assert Shape.image(2, 3, 4).kind is IMAGE and Shape.sequence(5, 2).kind is SEQUENCE
    assert Shape.feature(7).kind is FEATURE
    assert Shape.image(2, 3, 4) == Shape(IMAGE, (2, 3, 4)) != Shape(SEQUENCE, (2, 3, 4))
    assert str(IMAGE) == "image"
