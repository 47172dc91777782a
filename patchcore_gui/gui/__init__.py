"""The Qt layer. Importing it makes ``None``, ``True`` and ``False`` immortal first (see :mod:`.refcount_guard`)."""

from .refcount_guard import make_singletons_immortal

make_singletons_immortal()
