import subprocess
import sys


def test_importing_the_package_makes_idle_openmp_threads_sleep_unless_the_user_chose():
    code = "import os, patchcore_gui, torch; print(os.environ['OMP_WAIT_POLICY'])"
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin"})
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "OMP_WAIT_POLICY": "ACTIVE"})
    assert (plain.stdout.strip(), chosen.stdout.strip()) == ("PASSIVE", "ACTIVE")
