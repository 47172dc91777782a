"""What a model holds and how it judges parts, one fact a line: ``patchcore info`` prints them, the
window's Model page shows them. Everything that decides a verdict is among them (the minimum defect area,
the region of interest and the taught parts too), so two models that judge differently never read alike."""

from __future__ import annotations

from datetime import datetime
from typing import Dict

from .model import PatchCoreModel
from .regions import area_text


def readable_date(iso: str) -> str:
    """An ISO time as this PC's local ``YYYY-MM-DD HH:MM``; text that is not one, as it is."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def model_facts(model: PatchCoreModel, decimals: int = 3) -> Dict[str, str]:
    """``{name: value}`` in the order people read them; scores with ``decimals`` places."""
    bank = len(model.memory_bank)
    taught = model.taught_patches  # the page is refreshed at every threshold move: no copy of the bank for it
    roi = model.roi
    return {
        "Backbone": f"{model.config.backbone} ({', '.join(model.layers)})",
        "Input": model.preprocessing.describe(),
        "Good images": f"{model.n_good_images} ({model.held_out_text})",
        "Memory bank": f"{bank:,} of {model.n_patches:,} patches ({bank / max(model.n_patches, 1):.1%}) x "
                       f"{model.memory_bank.shape[1]} dims" + (f" + {taught:,} taught" if taught else ""),
        "Search": model.search.describe(),
        "Threshold": f"{model.threshold:.{decimals}f}",
        "Review band": "none" if model.review_from is None
                       else f"{model.review_from:.{decimals}f} to {model.threshold:.{decimals}f}",
        "Default threshold": f"{model.default_threshold:.{decimals}f}"
                             + (f" ({model.threshold_caution})" if model.threshold_caution else ""),
        "Minimum defect area": ("none (every region counts)" if model.min_defect_area <= 0
                                else area_text(model.min_defect_area, model.pixel_size_mm))
                               + (f", pixel size {model.pixel_size_mm:g} mm" if model.pixel_size_mm else ""),
        "Region of interest": "the whole part" if roi is None
                              else f"{100 * roi.share:.0f}% of the part ({roi.size[1]} x {roi.size[0]} px mask)",
        "Taught parts": f"{len(model.teachings)}" if model.teachings else "none",
        "Created": readable_date(model.created),
        "Good folder": model.good_folder or "–",
    }
