"""Hand-written PyTorch modules equivalent to four specs, for the peers of
`benchmarks/analyze_vs_peers.py`: written by hand, not by netspec's lowering, so that the peers count
an independent model (a fault in the lowering cannot make both sides agree).

    mnist    specs/mnist_matlab.net   28×28×1 only
    alexnet  specs/alexnet.net        single tower, LRN(5, 1e-4, 0.75, k=2) as MATLAB's defaults
    vgg16    specs/vgg16.net          configuration D
    resnet50 specs/resnet50.net       v1.5: stride in the 3×3, bias=False convs + BN

`build(net, size)` takes the square input side. Where the spec flattens a conv stack into a
fully connected layer (mnist, AlexNet, VGG-16) the FC is sized from that input, as
`netspec analyze --input-size S S C` sizes it; only ResNet-50, whose spec has a global
average pooling, uses adaptive pooling. Dropout, softmax and the classification layer carry
no learnables or MACs and are kept only where they cost nothing to count (softmax is left
out: the peers count on logits).

torch is imported on first build, so the benchmark driver can read the tables below without
paying for it (and its timed children do not inherit torch's memory from it).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

NETS = ("mnist", "alexnet", "vgg16", "resnet50")
SPECS = {
    "mnist": "specs/mnist_matlab.net",
    "alexnet": "specs/alexnet.net",
    "vgg16": "specs/vgg16.net",
    "resnet50": "specs/resnet50.net",
}
CHANNELS = {"mnist": 1, "alexnet": 3, "vgg16": 3, "resnet50": 3}
NATIVE = {"mnist": 28, "alexnet": 227, "vgg16": 224, "resnet50": 224}


def _out(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output side of a conv / pool, floor rounding (MATLAB and PyTorch agree)."""
    return (size + 2 * pad - kernel) // stride + 1


def mnist(size: int = 28) -> nn.Module:
    from torch import nn

    side = _out(size, 2, 2)  # 'same'-padded convs, one 2/2 max pool
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.Flatten(), nn.Linear(side * side * 64, 10),
    )


def alexnet(size: int = 227) -> nn.Module:
    from torch import nn

    side = _out(size, 11, 4)          # conv1
    side = _out(side, 3, 2)           # pool1 (conv2 keeps it)
    side = _out(side, 3, 2)           # pool2 (conv3-5 keep it)
    side = _out(side, 3, 2)           # pool5
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(side * side * 256, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


def vgg16(size: int = 224) -> nn.Module:
    from torch import nn

    layers: list[nn.Module] = []
    channels, side = 3, size
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))
        side = _out(side, 2, 2)
    layers += [
        nn.Flatten(),
        nn.Linear(side * side * 512, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    ]
    return nn.Sequential(*layers)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    from torch import nn

    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, bias=False),
                         nn.BatchNorm2d(cout))


@cache
def _bottleneck() -> type:
    from torch import nn

    class Bottleneck(nn.Module):
        """1×1 → 3×3 (stride) → 1×1 (4w), each + BN; projection shortcut in a stage's first block."""

        def __init__(self, cin: int, width: int, stride: int, project: bool) -> None:
            super().__init__()
            self.branch2 = nn.Sequential(
                _conv_bn(cin, width, 1), nn.ReLU(),
                _conv_bn(width, width, 3, stride), nn.ReLU(),
                _conv_bn(width, 4 * width, 1),
            )
            self.branch1 = _conv_bn(cin, 4 * width, 1, stride) if project else nn.Identity()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.branch2(x) + self.branch1(x))

    return Bottleneck


def resnet50(size: int = 224) -> nn.Module:
    from torch import nn

    Bottleneck = _bottleneck()
    layers: list[nn.Module] = [_conv_bn(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(cin, width, stride if b == 0 else 1, b == 0))
            cin = 4 * width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


BUILDERS = {"mnist": mnist, "alexnet": alexnet, "vgg16": vgg16, "resnet50": resnet50}


def build(net: str, size: int) -> nn.Module:
    return BUILDERS[net](size).eval()


def input_shape(net: str, size: int) -> tuple[int, int, int, int]:
    return (1, CHANNELS[net], size, size)
