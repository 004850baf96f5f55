import pytest
import torch

from facesym.classifiers.architectures import ARCHITECTURES, build_network, parameter_count


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize(("channels", "size"), [(1, 48), (3, 64)])
def test_networks_map_images_to_logits(architecture, channels, size):
    torch.manual_seed(0)
    net = build_network(architecture, channels, 7, width=4, depth=1).eval()
    assert net(torch.randn(2, channels, size, size)).shape == (2, 7)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_width_and_depth_grow_the_network(architecture):
    sizes = [parameter_count(build_network(architecture, 1, 7, w, d)) for w, d in [(4, 1), (8, 1), (8, 2)]]
    assert sizes[0] < sizes[1] < sizes[2]


def test_unknown_architecture_and_sizes_are_rejected():
    with pytest.raises(ValueError, match="unknown architecture 'vit'"):
        build_network("vit", 1, 7, 8, 1)
    with pytest.raises(ValueError, match="width and depth must be positive"):
        build_network("cnn", 1, 7, 0, 1)
