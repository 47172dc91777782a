"""PatchCore Inspector: find defects on parts after seeing only good ones."""

import os

# torch and faiss each bring an OpenMP runtime whose idle threads spin by default; on a 2-core
# line PC, beside the GUI and the image decoder, they starve each other and one inspection took
# 4.3 s instead of 0.15 s (docs/benchmarks.md). Set before either library loads; a user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
