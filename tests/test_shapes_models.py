"""course_utils.shapes and course_utils.models: the arithmetic agrees with real layers."""

import itertools

import pytest
import torch
from torch import nn

from course_utils.models import ConvNet, count_parameters
from course_utils.shapes import block_sizes, conv_output_size, layer_table, pool_output_size, receptive_fields


@pytest.mark.parametrize(
    "size,kernel,stride,padding,dilation",
    [
        c
        for c in itertools.product([5, 12, 28, 31], [1, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
        if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1
    ],
)
def test_conv_output_size_matches_conv2d(size, kernel, stride, padding, dilation):
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    real = layer(torch.zeros(1, 1, size, size)).shape[-1]
    assert conv_output_size(size, kernel, stride, padding, dilation) == real


@pytest.mark.parametrize("size,kernel,stride", list(itertools.product([5, 13, 26, 27], [2, 3], [None, 1, 2])))
def test_pool_output_size_matches_maxpool(size, kernel, stride):
    real = nn.MaxPool2d(kernel, stride=stride)(torch.zeros(1, 1, size, size)).shape[-1]
    assert pool_output_size(size, kernel, stride) == real


def test_the_course_network_sizes():
    assert conv_output_size(28, 5, padding=1) == 26
    assert pool_output_size(26) == 13
    assert conv_output_size(13, 5, padding=1) == 11
    assert pool_output_size(11) == 5


@pytest.mark.parametrize(
    "args,error,message",
    [
        ((3, 5), ValueError, "does not fit"),
        ((0, 3), ValueError, "size must be a whole number >= 1"),
        ((28, 3, 0), ValueError, "stride must be a whole number >= 1"),
        ((28, 3, 1, -1), ValueError, "padding must be a whole number >= 0"),
        ((28.0, 3), TypeError, "size must be a whole number, got 28.0"),
        ((28, "5"), TypeError, "kernel_size must be a whole number"),
    ],
)
def test_conv_output_size_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        conv_output_size(*args)


def test_two_conv_net_has_30840_parameters_and_layer_counts():
    model = ConvNet()
    assert count_parameters(model) == 30_840
    table = layer_table(model)
    params = dict(zip(table["layer"], table["parameters"], strict=True))
    assert params["features.0.0"] == 260 and params["features.1.0"] == 5_020
    assert params["classifier.1"] == 25_050 and params["classifier.3"] == 510
    assert params["total"] == 30_840
    shapes = dict(zip(table["layer"], table["output shape"], strict=True))
    assert shapes["features.0.0"] == (1, 10, 26, 26) and shapes["features.0.2"] == (1, 10, 13, 13)
    assert shapes["features.1.0"] == (1, 20, 11, 11) and shapes["features.1.2"] == (1, 20, 5, 5)
    assert shapes["classifier.3"] == (1, 10)


def test_one_conv_block_feeds_10x13x13_into_the_hidden_layer():
    model = ConvNet(n_conv=1)
    assert model.classifier[1].in_features == 10 * 13 * 13
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_three_blocks_fit_and_four_do_not():
    assert ConvNet(n_conv=3)(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(ValueError, match="do not fit"):
        ConvNet(n_conv=4)


@pytest.mark.parametrize("bad,error", [(0, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)])
def test_n_conv_must_be_a_positive_int(bad, error):
    with pytest.raises(error, match="n_conv must be a whole number"):
        ConvNet(n_conv=bad)


def test_receptive_fields_of_the_course_network():
    table = receptive_fields([("conv1", 5, 1), ("pool1", 2, 2), ("conv2", 5, 1), ("pool2", 2, 2)])
    assert table["receptive field"].tolist() == [5, 6, 14, 16]


def test_vgg_and_inception_networks_classify_28x28_images():
    from course_utils.models import InceptionNet, VGGNet

    x = torch.zeros(2, 1, 28, 28)
    for model in (VGGNet(), VGGNet((16, 32), convs_per_block=3, batchnorm=False, dropout=0.3), InceptionNet()):
        model.eval()
        assert model(x).shape == (2, 10)
    table = layer_table(InceptionNet())
    shapes = dict(zip(table["layer"], table["output shape"], strict=True))
    assert shapes["features.3"] == (1, 64, 7, 7) and shapes["features.5"] == (1, 128, 1, 1)
    # batch normalization replaces the convolutions' biases
    assert not any(isinstance(m, nn.Conv2d) and m.bias is not None for m in VGGNet().modules())
    assert all(m.bias is not None for m in VGGNet(batchnorm=False).modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_block_sizes_follow_the_real_convnet(n_blocks):
    """Lesson 5's map sizes: the last one, squared, times the channels, is what fc1 receives."""
    sizes = block_sizes(n_blocks)
    assert len(sizes) == 2 * n_blocks + 1 and sizes[:3] == [28, 26, 13]
    fc = ConvNet(n_conv=n_blocks).classifier[1]
    assert fc.in_features == 10 * 2 ** (n_blocks - 1) * sizes[-1] ** 2


def test_block_sizes_stop_where_the_maps_vanish():
    assert block_sizes(4) == [28, 26, 13, 11, 5, 3, 1]  # a fourth 5x5 convolution does not fit a 1x1 map
    with pytest.raises(ValueError, match="do not fit"):
        ConvNet(n_conv=4)


def test_multiplications_count_one_per_weight_used_and_leave_the_mode_alone():
    from course_utils.shapes import multiplications

    assert multiplications(nn.Conv2d(1, 4, 3), input_shape=(1, 1, 5, 5)) == (4 * 3 * 3) * 9
    assert multiplications(nn.Sequential(nn.Flatten(), nn.Linear(6, 2)), input_shape=(1, 6)) == 12
    # lesson 4's network: conv1 (10 x 26 x 26 outputs, 25 weights each), conv2 (20 x 11 x 11, 250), fc1, fc2
    model = ConvNet().train()
    assert multiplications(model) == 10 * 676 * 25 + 20 * 121 * 250 + 500 * 50 + 50 * 10
    assert model.training
