"""PatchCore Inspector: find defects on parts after seeing only good ones."""

import os

# torch and faiss each bring an OpenMP runtime whose idle threads spin by default; on a 2-core
# line PC, beside the GUI and the image decoder, they starve each other and one inspection took
# 4.3 s instead of 0.15 s (docs/benchmarks.md). Set before either library loads; a user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# numpy's OpenBLAS threads, which do the nearest-neighbour search, spin ~0.1 s after each product in
# the same way and slowed the next image's network from 25 to 32 ms; 2^4 cycles sends them to sleep.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
