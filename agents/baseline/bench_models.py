#!/usr/bin/env python3
"""Train and save one model of each non-blend family, as the reference agent would, for benchmarks.

    bench_models.py --data DIR --out DIR [--scale S]

For each family it fits the first configuration of the family's list at the given scale on the
80% training slice of DIR/train.csv (the agent's split and seed), saves it with the agent's own
`save_model` as an MLflow model directory OUT/<family>/model, and prints one JSON line:
{"family", "config", "model_dir", "train_seconds", "save_seconds", "model_bytes"}. A throwaway
save comes first, so no family's save_seconds carries MLflow's one-time lazy imports (~0.5 s).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the baseline package beside this file

from baseline.data import load_data  # noqa: E402  (importing the package first sets the thread variables)
from baseline.families import FAMILIES, PREFERENCE, Context  # noqa: E402
from baseline.models import SIGNATURE_ROWS, save_model  # noqa: E402
from baseline.settings import Clock  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder holding train.csv")
    parser.add_argument("--out", type=Path, required=True, help="where OUT/<family>/model is written")
    parser.add_argument("--scale", type=float, default=1.0, help="(0, 1]: fraction of the rows and of the sizes")
    args = parser.parse_args()
    scale = min(1.0, max(0.01, args.scale))
    data = load_data(scale, args.data, validation=False)
    ctx = Context(data, Clock(time.time() + 3600), scale, [], True)
    sample = data.x_train.iloc[:SIGNATURE_ROWS]
    with tempfile.TemporaryDirectory() as scratch:  # the warm-up save
        save_model(DummyClassifier().fit(data.x_train, data.y_train), Path(scratch) / "model", sample, {})
    for key in (k for k in PREFERENCE if k != "blend-top-models"):
        family = FAMILIES[key]
        config = family.configs(scale)[0]
        started = time.perf_counter()
        fit = family.fit(config, ctx)
        trained = time.perf_counter()
        metadata = {"family": key, "params": {k: v for k, v in config.items() if k != "why"},
                    "train_rows": len(data.x_train), "created_by": "agents/baseline/bench_models.py"}
        folder = save_model(fit.model, args.out.resolve() / key / "model", sample, metadata)
        saved = time.perf_counter()
        print(json.dumps({"family": key, "config": config["name"], "model_dir": str(folder),
                          "train_seconds": round(trained - started, 3), "save_seconds": round(saved - trained, 3),
                          "model_bytes": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
