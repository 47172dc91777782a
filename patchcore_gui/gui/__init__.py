"""The Qt layer. Importing it makes ``None`` immortal first (see :mod:`.none_refcount`)."""

from .none_refcount import make_none_immortal

make_none_immortal()
