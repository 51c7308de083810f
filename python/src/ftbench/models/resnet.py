"""ResNet-18, the published harness's third benchmark: an image classifier.

The architecture of torchvision's ``resnet18`` (He et al., "Deep Residual
Learning for Image Recognition", CVPR 2016; torchvision.models.resnet): a 7 x 7
stride-2 convolution and max pooling, four stages of two basic blocks (64, 128,
256, 512 channels; stride 2 and a 1 x 1 projection shortcut at the start of
stages 2 to 4), global average pooling and a 1000-way linear layer; 11,689,512
parameters. Defined here because torchvision's wheels do not match the pinned
CPU torch (docs/run-model.md). Weights are random, seeded and initialised as
torchvision initialises them (Kaiming-normal convolutions, fan-out, ReLU gain;
batch norm weight 1, bias 0); nothing is downloaded. Input: float32
``(batch, 3, 224, 224)``; output: float32 ``(batch, 1000)`` logits. Eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

SEED = 18
"""Seed of the random weights."""
IMAGE = (3, 224, 224)
"""Channels, height and width of one input image."""
CLASSES = 1000


class BasicBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm, plus the (projected) input."""

    def __init__(self, channels_in: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(channels_in, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout (see the module docstring)."""

    def __init__(self, classes: int = CLASSES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages = []
        channels_in = 64
        for channels, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(
                nn.Sequential(
                    BasicBlock(channels_in, channels, stride), BasicBlock(channels, channels, 1)
                )
            )
            channels_in = channels
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, classes)`` of images ``x`` ``(batch, 3, H, W)``, float32."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build() -> ResNet18:
    """ResNet-18 with seeded random weights (:data:`SEED`), in eval mode."""
    generator = torch.Generator().manual_seed(SEED)
    model = ResNet18()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, nn.Linear):
                bound = 1.0 / module.in_features**0.5
                module.weight.uniform_(-bound, bound, generator=generator)
                module.bias.uniform_(-bound, bound, generator=generator)
    return model.eval()
