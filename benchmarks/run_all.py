"""Run every benchmark and write their JSON reports to benchmarks/results/ (`make benchmarks`)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
(HERE / "results").mkdir(exist_ok=True)
for name in ("bench_training", "bench_pruning", "bench_similarity"):
    print(f"== {name}", flush=True)
    subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--out",
                    str(HERE / "results" / f"{name}.json")], check=True)
