#!/usr/bin/env python3
"""Reference baselines for the tabular report: LightGBM, random forest, k-NN and logistic regression
with default settings, on exactly the splits the Rust experiment uses.

Usage:
    python3 scripts/tabular_baselines.py [--splits .modelgpt-cache/tabular-splits] [--out reports/tabular_baselines.json]

The Rust side (`cargo run --release --example quickstart`) writes one folder per task into
`--splits`: `train.csv`, `test.csv` (preprocessed features `f0..`, then `label`; the whole training
split, as the per-task MLP gets it) and `meta.json` (task name, fingerprint of the split). This
script fits each model on `train.csv`, scores test accuracy, times the fit, and writes one JSON
object `{"version": 1, "tasks": {name: {"fingerprint": .., "lightgbm": acc, "lightgbm_fit_ms": ..,
"random_forest": .., "knn": .., "logreg": .., ...}}, "versions": {...}}`. The next quickstart run
merges it into `reports/tabular.{json,md}` (tasks whose fingerprint differs are ignored).

It needs scikit-learn and lightgbm, which the project does not install; run it in your own
environment, e.g. `python3 -m venv /tmp/ref && /tmp/ref/bin/pip install scikit-learn lightgbm`.
Default settings throughout (what a user picks without tuning), seeds fixed at 0.
"""

import argparse
import csv
import json
import sys
import time
from pathlib import Path


def read_csv(path: Path):
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if not header or header[-1] != "label":
        raise SystemExit(f"{path}: the last column must be `label`")
    x = [[float(v) for v in r[:-1]] for r in body]
    y = [int(r[-1]) for r in body]
    return x, y


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--splits", type=Path, default=Path(".modelgpt-cache/tabular-splits"))
    ap.add_argument("--out", type=Path, default=Path("reports/tabular_baselines.json"))
    args = ap.parse_args()

    import numpy as np
    import lightgbm
    import sklearn
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    models = {
        "lightgbm": lambda: lightgbm.LGBMClassifier(random_state=0, verbose=-1, n_jobs=2),
        "random_forest": lambda: RandomForestClassifier(random_state=0, n_jobs=2),
        "knn": lambda: KNeighborsClassifier(),
        "logreg": lambda: LogisticRegression(max_iter=1000),
    }
    folders = sorted(p for p in args.splits.iterdir() if (p / "meta.json").is_file()) if args.splits.is_dir() else []
    if not folders:
        print(f"no task folders in {args.splits}: run the quickstart first", file=sys.stderr)
        return 1
    out = {"version": 1, "tasks": {}, "versions": {
        "python": sys.version.split()[0], "numpy": np.__version__,
        "scikit-learn": sklearn.__version__, "lightgbm": lightgbm.__version__}}
    for folder in folders:
        meta = json.loads((folder / "meta.json").read_text())
        xtr, ytr = read_csv(folder / "train.csv")
        xte, yte = read_csv(folder / "test.csv")
        xtr, ytr, xte, yte = np.array(xtr), np.array(ytr), np.array(xte), np.array(yte)
        row = {"fingerprint": meta["fingerprint"]}
        for name, make in models.items():
            model = make()
            t0 = time.perf_counter()
            model.fit(xtr, ytr)
            fit_ms = (time.perf_counter() - t0) * 1e3
            acc = float((model.predict(xte) == yte).mean())
            row[name] = acc
            row[f"{name}_fit_ms"] = fit_ms
        out["tasks"][meta["task"]] = row
        print(f"{meta['task']:>20}: " + " ".join(f"{m} {row[m]:.3f}" for m in models), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
