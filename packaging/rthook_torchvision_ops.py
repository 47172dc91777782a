"""Runtime hook: let torchvision import when its native ops were left out of the bundle.

On Linux x86_64 the only torchvision wheels on the package index are built for CUDA torch; their
``_C`` library needs ``libtorch_cuda.so``, which the CPU torch in the bundle does not have, so the
spec leaves ``_C`` out (see packaging/README.md). torchvision's import then stops at
``register_fake("torchvision::nms")`` because the op was never declared. This hook declares the
two op schemas it registers unconditionally (``nms``, ``qnms``), just before torchvision is first
imported, without kernels: torchvision's models, transforms and feature extraction (pure Python)
work, and calling ``torchvision.ops.nms`` raises torchvision's own "Couldn't load custom C++ ops".

The spec adds this hook only when the build environment's ``torchvision/_C`` cannot be loaded,
so it never competes with real ops. Nothing here runs until torchvision is imported, so
``--version`` stays fast.
"""

import importlib.abc
import sys

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)


class _DeclareTorchvisionOps(importlib.abc.MetaPathFinder):
    library = None  # kept alive: a torch.library.Library drops its definitions when collected

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            sys.meta_path.remove(self)
            import torch

            type(self).library = torch.library.Library("torchvision", "FRAGMENT")
            for schema in _SCHEMAS:
                self.library.define(schema)
        return None  # the ordinary finders import torchvision itself


sys.meta_path.insert(0, _DeclareTorchvisionOps())
