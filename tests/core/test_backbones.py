from pathlib import Path

import pytest
import torch

from patchcore_gui.core.backbones import (BACKBONES, _prepared_for_inference, file_sha256, fold_batch_norms, get_spec,
                                          lite_state_dict_to_timm, load_backbone, resolve_layers)
from patchcore_gui.core.errors import WeightsMissingError


def test_default_backbone_gives_strides_8_16_and_32(backbone):
    maps = backbone(torch.zeros(2, 3, 224, 224))
    assert [tuple(m.shape) for m in maps] == [(2, 40, 28, 28), (2, 112, 14, 14), (2, 320, 7, 7)]
    assert len(backbone.weights_sha256) == 64
    assert backbone.weights_sha256 == file_sha256(backbone.weights_path)


def test_pretrained_weights_are_loaded_not_random(backbone):
    # two builds agree exactly only when the weights come from the file, not from random init
    again = load_backbone("tf_efficientnet_lite0")
    x = torch.rand(1, 3, 96, 96)
    with torch.inference_mode():
        assert torch.equal(backbone(x)[0], again(x)[0])


def test_layers_are_selectable_and_ordered_shallow_first():
    spec = get_spec("tf_efficientnet_lite0")
    assert resolve_layers(spec, ["blocks.4", "blocks.2"]) == ("blocks.2", "blocks.4")
    with pytest.raises(ValueError, match="no layer"):
        resolve_layers(spec, ["layer2"])
    three = load_backbone("tf_efficientnet_lite0", ["blocks.1", "blocks.2", "blocks.4"])
    assert [m.shape[1] for m in three(torch.zeros(1, 3, 64, 64))] == [24, 40, 112]


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(ValueError, match="tf_efficientnet_lite0"):
        get_spec("resnet9000")


def test_wide_resnet_without_weights_says_what_to_put_where(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    spec = BACKBONES["wide_resnet50_2"]
    if spec.find_weights() is not None:
        pytest.skip("this machine has WideResNet-50-2 weights in torchvision's cache")
    with pytest.raises(WeightsMissingError, match="--weights"):
        load_backbone("wide_resnet50_2")


def test_weights_file_that_is_not_a_checkpoint(tmp_path: Path):
    bad = tmp_path / "wrn.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsMissingError, match="wrn.pth"):
        load_backbone("wide_resnet50_2", weights=bad)


def test_expected_hash_mismatch_is_refused(backbone):
    with pytest.raises(WeightsMissingError, match="differs"):
        load_backbone("tf_efficientnet_lite0", expected_sha256="0" * 64)


def test_lite_key_renaming_follows_the_stage_layout():
    state = {"_blocks.0._depthwise_conv.weight": 0, "_blocks.1._expand_conv.weight": 1,
             "_blocks.3._project_conv.weight": 2, "_conv_stem.weight": 3, "_bn1.bias": 4, "_fc.weight": 5}
    renamed = lite_state_dict_to_timm(state, (1, 2, 2, 3, 3, 4, 1))
    assert renamed == {"blocks.0.0.conv_dw.weight": 0, "blocks.1.0.conv_pw.weight": 1,
                       "blocks.2.0.conv_pwl.weight": 2, "conv_stem.weight": 3, "bn2.bias": 4, "classifier.weight": 5}


def _random_norm(channels, seed):
    generator = torch.Generator().manual_seed(seed)
    norm = torch.nn.BatchNorm2d(channels).eval()
    norm.running_mean.copy_(torch.randn(channels, generator=generator))
    norm.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
    norm.weight.data.copy_(torch.randn(channels, generator=generator))
    norm.bias.data.copy_(torch.randn(channels, generator=generator))
    return norm


def test_folding_batch_norms_keeps_the_output():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), _random_norm(8, 1), torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), _random_norm(8, 2))).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        before = net(x)
        assert fold_batch_norms(net) == 2
        after = net(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)


class _NormBeforeConv(torch.nn.Module):
    """A conv registered just before a batch norm that in fact runs first: folding would be wrong."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.conv = torch.nn.Conv2d(3, 3, 1)
        self.norm = _random_norm(3, 4)

    def forward(self, x):
        return [self.conv(self.norm(x))]


def test_a_network_that_folding_would_change_is_used_as_built():
    net = _prepared_for_inference(_NormBeforeConv)
    assert isinstance(net.norm, torch.nn.BatchNorm2d)
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x)[0], _NormBeforeConv().eval()(x)[0])


def test_the_default_backbone_is_folded_and_channels_last_with_the_same_features(backbone):
    as_built = load_backbone("tf_efficientnet_lite0", backbone.layers, as_built=True)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in as_built.net.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in backbone.net.modules())
    x = torch.rand(2, 3, 224, 224)
    with torch.inference_mode():
        for fast, plain in zip(backbone(x), as_built(x)):
            torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-4 * float(plain.abs().max()))
