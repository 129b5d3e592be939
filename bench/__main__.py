"""`python -m bench` (make bench): every benchmark, each beside its baseline."""

import subprocess
import sys

BENCHMARKS = [
    "bench.bench_log",
    "bench.bench_verify",
    "bench.bench_import",
    "bench.bench_enrol",
    "bench.bench_2g",
    "bench.bench_login",
    "bench.bench_checkin",
    "bench.bench_tally",
]

for module in BENCHMARKS:
    print(f"== {module}", flush=True)
    subprocess.run([sys.executable, "-m", module, *sys.argv[1:]], check=True)  # noqa: S603
