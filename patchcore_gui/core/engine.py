"""The engine a long-running program keeps: one loaded network, and an inspector for the open model.

Loading a network takes seconds and indexing a memory bank a fraction of one, so a window (and the
line, which inspects all shift) keeps both between jobs. :class:`Engine` is where that reuse is
decided, for every caller alike: a build reuses the network if it is the one the settings ask for;
an inspection reuses the inspector while the model's memory bank is the same array (a moved
threshold or a new region of interest keeps it), and otherwise makes a new one on the network already loaded.

One job at a time uses an engine (the window runs one worker at a time); a lock makes a second,
concurrent caller wait rather than race.

>>> engine = Engine()                                                   # doctest: +SKIP
>>> result = engine.fit(paths, PatchCoreConfig())                      # doctest: +SKIP
>>> engine.inspector_for(result.model).inspect(read_image("part.png"))  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional, Sequence

from .backbones import FeatureBackbone, get_spec, load_backbone, resolve_layers
from .config import PatchCoreConfig
from .model import PatchCoreModel
from .patchcore import FitResult, Inspector, fit
from .progress import CancelToken, ProgressFn, check, report
from .teaching import TeachingOutcome, teach

LOADING_NETWORK = "loading network"


class Engine:
    """Holds the loaded :class:`FeatureBackbone` and the :class:`Inspector` of the last model used."""

    def __init__(self, backbone: Optional[FeatureBackbone] = None) -> None:
        self._backbone = backbone
        self._inspector: Optional[Inspector] = None
        self._lock = threading.Lock()

    @property
    def backbone(self) -> Optional[FeatureBackbone]:
        """The network loaded now, or None before the first job."""
        return self._backbone

    def fit(self, paths: Sequence[Path], config: PatchCoreConfig, progress: Optional[ProgressFn] = None,
            cancel: Optional[CancelToken] = None, good_folder: str = "") -> FitResult:
        """Build a model on the loaded network (loading the one ``config`` names if it differs); the
        inspector for the new model is made at once, so its first inspection starts without delay."""
        with self._lock:
            backbone = self._network_for(config, progress)
            check(cancel)
            result = fit(paths, config, progress=progress, cancel=cancel, backbone=backbone, good_folder=good_folder)
            self._inspector = Inspector(result.model, backbone=backbone)
            return result

    def inspector_for(self, model: PatchCoreModel, progress: Optional[ProgressFn] = None) -> Inspector:
        """An inspector for ``model``: the current one if it holds the same memory bank, else a new one on
        the loaded network (which :class:`Inspector` replaces if ``model`` was built with another)."""
        with self._lock:
            current = self._inspector
            if (current is not None and current.model.memory_bank is model.memory_bank
                    and current.model.teachings is model.teachings):
                # the same bank, perhaps another threshold or region of interest: nothing to index again
                current.model = model
                return current
            loaded = self._backbone
            if loaded is None or loaded.weights_sha256 != model.weights_sha256 or loaded.layers != model.layers:
                report(progress, 0, 1, LOADING_NETWORK)  # the rule Inspector applies when it loads its own
            self._inspector = Inspector(model, backbone=self._backbone)
            self._backbone = self._inspector.backbone
            return self._inspector

    def inspector_of_its_own(self, model: PatchCoreModel) -> Inspector:
        """An inspector for ``model`` on the loaded network that no later call changes: a line keeps
        inspecting with its model while the window's is tuned (:meth:`inspector_for` hands its
        inspector a new region of interest or threshold in place)."""
        with self._lock:
            inspector = Inspector(model, backbone=self._backbone)
            self._backbone = inspector.backbone
            return inspector

    def teach(self, model: PatchCoreModel, paths: Sequence[Path], progress: Optional[ProgressFn] = None,
              cancel: Optional[CancelToken] = None) -> TeachingOutcome:
        """Add what the bank lacks from good ``paths`` (:func:`.teaching.teach`) on the loaded network; the
        inspector for the taught model is kept, so the parts inspected next use it at once."""
        inspector = self.inspector_for(model, progress)
        with self._lock:
            outcome = teach(inspector, paths, progress=progress, cancel=cancel)
            self._inspector = outcome.inspector
            return outcome

    def _network_for(self, config: PatchCoreConfig, progress: Optional[ProgressFn]) -> FeatureBackbone:
        layers = resolve_layers(get_spec(config.backbone), config.layers)
        loaded = self._backbone
        if loaded is None or loaded.spec.name != config.backbone or loaded.layers != layers:
            report(progress, 0, 1, LOADING_NETWORK)
            self._backbone = load_backbone(config.backbone, config.layers)
        return self._backbone
