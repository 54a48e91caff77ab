#!/usr/bin/env python3
"""Side-by-side throughput of the MiniLM encoder: sentence-transformers vs ModelGPT-rs.

Runs sentence-transformers (in a virtual environment this script makes itself, on the CPU,
with as many torch threads as cores) and `cargo run --release --example encoder_speed` on the
same sentences, batch sizes 1, 8, 32 and 128, short (requirement sentences, 15-35 tokens) and
long (~64-token paragraphs) inputs, one after the other in one run, plus the time to encode 200
support texts of ~64 tokens with the library's default settings. Writes `reports/encoder.json`
and `reports/encoder.md` (ratios ours / reference; above 1 means ModelGPT-rs is faster).

    python3 scripts/bench_encoder.py [--venv DIR] [--seconds 3] [--threads N]

Both sides load the same local files (`assets/minilm`, fetched by `scripts/fetch_assets.py`):
nothing is downloaded from a model hub. The first run installs sentence-transformers (and torch)
from PyPI into the venv (default `target/bench-venv`).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "assets" / "minilm"

# The criterion bench's requirement sentences (one source for the bench, the example and this).
SHORT = json.loads((ROOT / "benches" / "data" / "requirement_sentences.json").read_text())

# Paragraphs of roughly 64 tokens, as support texts of a text task are.
LONG = [
    "The film opens slowly, with long shots of an empty harbour and a fisherman mending his nets, "
    "but by the second act the quiet pays off: every character we met in passing returns with a "
    "secret, and the final twenty minutes had the whole theatre holding its breath until the lights came up.",
    "I ordered the blender on Monday and it arrived on Thursday in a dented box. The motor works, "
    "but the lid does not seal properly and leaks whenever I make a smoothie with more than two cups "
    "of liquid. Customer service offered a refund only if I pay the return shipping myself.",
    "Researchers at the university reported that the new battery chemistry keeps ninety percent of "
    "its capacity after three thousand charge cycles, roughly twice the figure for current lithium "
    "cells, although the prototype still needs an operating temperature above sixty degrees Celsius.",
    "The council voted seven to two on Tuesday night to extend the bicycle lane along the river road, "
    "despite objections from shop owners who fear losing parking spaces; construction is expected "
    "to begin in the spring and to close one lane of traffic for about four months.",
    "After three seasons in the second division the club finally won promotion with a late goal in "
    "the last match of the season, a header from a defender who had not scored all year, sending "
    "thousands of supporters onto the pitch before the referee had even blown the final whistle.",
    "My laptop started overheating after the latest update; the fan runs at full speed even when the "
    "machine is idle, the battery drains in under two hours, and the support forum suggests rolling "
    "back the driver, which fixed the noise but broke the external monitor connection entirely.",
    "The recipe calls for slow-roasting the tomatoes with garlic and thyme for about ninety minutes, "
    "then blending them with a splash of cream and a handful of fresh basil; it is simple, but the "
    "long roasting is what gives the soup its deep, almost smoky sweetness, so do not rush it.",
    "Shares of the retailer fell eleven percent in early trading after the company cut its annual "
    "forecast, citing weaker demand for home furnishings and higher freight costs, and announced "
    "that it would close forty stores and reduce its corporate staff by about six percent this year.",
]

BATCHES = [1, 8, 32, 128]


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import sentence_transformers"], capture_output=True
        )
        if probe.returncode == 0:
            return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "sentence-transformers"], check=True
    )
    return python


REFERENCE = r"""
import json, sys, time
import torch
from sentence_transformers import SentenceTransformer, models
args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
word = models.Transformer(args["model"], max_seq_length=256)
pool = models.Pooling(word.get_word_embedding_dimension(), "mean")
st = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "sets": {}}
for name, sentences in args["sets"].items():
    rows = []
    for b in args["batches"]:
        texts = [sentences[i % len(sentences)] for i in range(b)]
        st.encode(texts, batch_size=b)
        times = []
        start = time.perf_counter()
        while time.perf_counter() - start < args["seconds"] or len(times) < 3:
            t0 = time.perf_counter()
            st.encode(texts, batch_size=b)
            times.append(time.perf_counter() - t0)
        rows.append({"batch": b, "calls": len(times),
                     "sentences_per_s": b * len(times) / sum(times),
                     "median_ms_per_call": 1e3 * sorted(times)[len(times) // 2]})
    out["sets"][name] = rows
support = [args["sets"]["long"][i % len(args["sets"]["long"])] for i in range(200)]
st.encode(support, batch_size=32)
t0 = time.perf_counter(); st.encode(support, batch_size=32)
out["support_200_ms"] = 1e3 * (time.perf_counter() - t0)
emb = st.encode(args["sets"]["short"][:4], batch_size=4)
out["embeddings"] = emb.tolist()
print(json.dumps(out))
"""


def ours(sentences_file: Path, batches, seconds: float) -> dict:
    cmd = [
        "cargo", "run", "--release", "-q", "--example", "encoder_speed", "--",
        "--sentences", str(sentences_file),
        "--batch-sizes", ",".join(map(str, batches)),
        "--seconds", str(seconds), "--json",
    ]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", type=Path, default=ROOT / "target" / "bench-venv")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=ROOT / "reports")
    args = ap.parse_args()
    if not (MODEL / "model.safetensors").exists():
        sys.exit(f"{MODEL} is missing: run python3 scripts/fetch_assets.py first")
    python = ensure_venv(args.venv)
    sets = {"short": SHORT, "long": LONG}
    tmp = ROOT / "target" / "bench-encoder"
    tmp.mkdir(parents=True, exist_ok=True)
    # Build first so that compiling is not timed next to the reference.
    subprocess.run(["cargo", "build", "--release", "-q", "--example", "encoder_speed"],
                   cwd=ROOT, check=True)

    ref_args = {"model": str(MODEL), "threads": args.threads, "sets": sets,
                "batches": BATCHES, "seconds": args.seconds}
    t0 = time.time()
    ref = subprocess.run([str(python), "-c", REFERENCE, json.dumps(ref_args)],
                         capture_output=True, text=True, check=True)
    reference = json.loads(ref.stdout.strip().splitlines()[-1])

    mine = {}
    for name, sentences in sets.items():
        f = tmp / f"{name}.json"
        f.write_text(json.dumps(sentences))
        mine[name] = ours(f, BATCHES, args.seconds)["rows"]
    support = tmp / "support.json"
    support.write_text(json.dumps([LONG[i % len(LONG)] for i in range(200)]))
    # 200 texts in one call with the library's default settings, as a user runs it.
    cmd = ["cargo", "run", "--release", "-q", "--example", "encoder_speed", "--",
           "--sentences", str(support), "--batch-sizes", "200",
           "--seconds", str(args.seconds), "--json"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    support_ms = json.loads(res.stdout.strip().splitlines()[-1])["rows"][0]["median_ms_per_call"]

    # Parity on the same inputs (the committed fixture test is the real check).
    emb = subprocess.run(["cargo", "run", "--release", "-q", "--example", "embed", "--", "--json",
                          *SHORT[:4]], cwd=ROOT, capture_output=True, text=True, check=True)
    ours_emb = json.loads(emb.stdout.strip().splitlines()[-1])
    max_diff = max(abs(a - b) for ra, rb in zip(ours_emb, reference["embeddings"])
                   for a, b in zip(ra, rb))

    rows = []
    for name in sets:
        for r, m in zip(reference["sets"][name], mine[name]):
            rows.append({
                "inputs": name, "batch": r["batch"],
                "reference_sentences_per_s": r["sentences_per_s"],
                "ours_sentences_per_s": m["sentences_per_s"],
                "ratio": m["sentences_per_s"] / r["sentences_per_s"],
            })
    report = {
        "command": "python3 scripts/bench_encoder.py",
        "machine": f"{os.cpu_count()} cores",
        "reference": f"sentence-transformers on torch {reference['torch']} CPU, "
                     f"{reference['threads']} threads",
        "seconds_per_point": args.seconds,
        "wall_s": time.time() - t0,
        "rows": rows,
        "support_200x64_ms": {"ours": support_ms, "reference": reference["support_200_ms"]},
        "max_abs_embedding_diff": max_diff,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    tmp_json = args.out / "encoder.json.tmp"
    tmp_json.write_text(json.dumps(report, indent=2))
    tmp_json.replace(args.out / "encoder.json")
    md = [
        "# MiniLM encoder speed: ModelGPT-rs vs sentence-transformers",
        "",
        f"Produced by `python3 scripts/bench_encoder.py` on {report['machine']}; reference: "
        f"{report['reference']}; ours: flex backend (`examples/encoder_speed`). Same sentences, "
        "same batch sizes, one run; a call hands `batch` sentences to each side (reference: "
        "`encode(texts, batch_size=batch)`; ours: `embed(texts)`, which runs length-sorted "
        "passes of `DEFAULT_BATCH_SIZE` = 16); ratio = ours / reference sentences per second "
        "(above 1: ours is faster). Short inputs are requirement sentences (15-35 tokens), long ones "
        "~64-token paragraphs.",
        "",
        "| inputs | batch | reference sentences/s | ours sentences/s | ratio |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(f"| {r['inputs']} | {r['batch']} | {r['reference_sentences_per_s']:.1f} | "
                  f"{r['ours_sentences_per_s']:.1f} | {r['ratio']:.2f}x |")
    md += [
        "",
        f"200 support texts of ~64 tokens in one call (reference: batch_size=32; ours: the "
        f"library's default passes): ours {support_ms:.0f} ms, reference "
        f"{reference['support_200_ms']:.0f} ms (target: ours ≤ 1,000 ms).",
        "",
        f"Largest absolute difference of the embeddings of 4 sentences: {max_diff:.2e}.",
        "",
    ]
    (args.out / "encoder.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
