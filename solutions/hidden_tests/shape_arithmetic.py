"""Hidden tests of exercises 3: the same requirements as the visible checks, on other inputs."""

from course_utils import ConvNet, count_parameters
from course_utils.checks import check_equal
from course_utils.exercise_checks import Tasks
from course_utils.exercise_checks.shape_arithmetic import EARLIER_ANSWERS

hidden = Tasks("shape_arithmetic")


@hidden(1, "conv_output_size", answers=["conv_output_size"])
def other_sizes(nb):
    check_equal(nb.conv_output_size(5, 5), 1, "a kernel as large as the input")
    check_equal(nb.conv_output_size(224, 7, stride=2, padding=3), 112, "ResNet's first layer")


@hidden(2, "shapes through the network", answers=["feature_shapes", "flat_features"])
def other_images(nb):
    from course_utils import shapes

    with nb.lend(conv_output_size=shapes.conv_output_size):
        expected = [(10, 18, 18), (10, 9, 9), (20, 7, 7), (20, 3, 3)]
        check_equal(nb.feature_shapes(5, 1, image=20), expected, "a 20x20 image")
        check_equal(nb.flat_features(7, 3), 980, "7x7 kernels, padding 3")


@hidden(3, "parameter counts", answers=["conv_params", "linear_params", "convnet_params"])
def other_layers(nb):
    check_equal(nb.conv_params(3, 64, 7), 9_472, "a colour-image conv layer")
    check_equal(nb.linear_params(1, 1), 2, "the smallest linear layer")
    with nb.lend(**EARLIER_ANSWERS):
        expected = count_parameters(ConvNet(kernel_size=5, padding=0))
        check_equal(nb.convnet_params(5, 0), expected, "5x5 kernels, no padding")


@hidden(4, "receptive_field", answers=["receptive_field"])
def other_stacks(nb):
    check_equal(nb.receptive_field([(3, 1)]), 3, "a single 3x3 convolution")
    check_equal(nb.receptive_field([(7, 2), (3, 2), (3, 1), (3, 1)]), 27, "a ResNet-like stem")
