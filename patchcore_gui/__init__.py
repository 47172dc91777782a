"""PatchCore Inspector: find defects on parts after seeing only good ones."""

import os

# torch and faiss each bring an OpenMP runtime whose idle threads spin by default; on a 2-core
# line PC, beside the GUI and the image decoder, they starve each other (measured in
# docs/benchmarks.md, "The network and the threads"). Set before either library loads; a user's
# own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# numpy's OpenBLAS threads, which do the nearest-neighbour search, spin after each product in the
# same way and slow the next image's network; a timeout of 2^4 cycles sends them to sleep at once.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
