"""TensorFlow's 'same' padding: the layers that let torch pad (no padded copy) agree with padding explicitly."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from facesym.classifiers.keras import _Activation, _Conv, _pad_same, _Pool


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
def test_same_max_pooling_and_convolution_match_explicit_padding(kernel, stride):
    generator = torch.Generator().manual_seed(kernel * 10 + stride)
    for height in range(kernel, 20):
        x = torch.randn(2, 3, height, height + 1, generator=generator)
        pool = _Pool("max", {"pool_size": kernel, "strides": stride, "padding": "same"})
        padded = _pad_same(x, (kernel, kernel), (stride, stride), (1, 1), value=-math.inf)
        expected = F.max_pool2d(padded, kernel, stride)
        assert torch.equal(pool(x), expected), f"max pooling differs at size {height}"
        weight = torch.randn(4, 3, kernel, kernel, generator=generator).numpy()
        conv = _Conv(weight, 1, {"strides": stride, "padding": "same"}, _Activation("linear", 2), None)
        expected = F.conv2d(_pad_same(x, (kernel, kernel), (stride, stride), (1, 1)), conv.weight, None, stride)
        out = conv(x)
        assert out.shape == expected.shape == (2, 4, math.ceil(height / stride), math.ceil((height + 1) / stride))
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
