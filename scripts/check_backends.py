#!/usr/bin/env python3
"""Runs ModelGPT-rs on flex, wgpu and LibTorch (tch) side by side and writes reports/backends.json.

What it does, in one run:

1. wgpu: makes sure a Vulkan driver is there (on a machine without a GPU: Mesa's software driver
   lavapipe, Debian package ``mesa-vulkan-drivers``, installed with apt-get when missing and when
   this runs as root).
2. tch: makes a virtual environment (``target/backends-venv`` unless ``--venv``) with the PyTorch
   that burn 0.22.1's ``tch`` expects (``torch==2.9.0`` from PyPI) and builds against its
   LibTorch (``LIBTORCH_USE_PYTORCH=1``).
3. Builds ``tests/backends.rs`` of modelgpt-hypernet and the ``backends`` binary of the
   experiments with the features of every backend asked for (one build, shared by both), runs
   the test file once per backend (``BURN_DEVICE=<backend>``), then the binary, which measures
   every backend beside flex in one process: parity figures, MiniLM throughput at batch 1 and
   32, shipped tabular generation latency, one meta-training step.
4. Writes the binary's figures, the test outcomes and every error met (with its message) to
   ``reports/backends.json``, and a table of them to ``reports/backends.md``
   (``--render-only`` rewrites the table from an existing JSON without running anything).

A backend that cannot be built or run here is reported with the error instead of figures; the
others still run. ``--cuda`` adds burn's CUDA backend (cubecl) and LibTorch on CUDA, for a
machine with an NVIDIA GPU and its driver; building burn's ``cuda`` feature downloads an LLVM
bundle (``tracel-llvm-bundler``) at build time, so it also needs network access beyond the package
registries.

Usage::

    python3 scripts/check_backends.py [--backends flex,wgpu,tch] [--cuda] [--venv DIR]
                                      [--seconds 2] [--out reports/backends.json] [--render-only]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH = "torch==2.9.0"


def log(msg: str) -> None:
    print(f"check-backends: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    log("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
    if proc.stdout:
        sys.stderr.write(proc.stdout[-4000:])
    if proc.stderr:
        sys.stderr.write(proc.stderr[-4000:])
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{tail(proc)}")
    return proc


def tail(proc: subprocess.CompletedProcess, n: int = 40) -> str:
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return "\n".join(lines[-n:])


def vulkan_icds() -> list[str]:
    dirs = [Path("/usr/share/vulkan/icd.d"), Path("/etc/vulkan/icd.d")]
    return sorted(str(p) for d in dirs if d.is_dir() for p in d.glob("*.json"))


def ensure_vulkan() -> str | None:
    """A Vulkan driver, installing lavapipe when none is there; returns an error or None."""
    if vulkan_icds():
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "no Vulkan driver and cannot install one (needs apt-get as root: mesa-vulkan-drivers)"
    pkgs = ["mesa-vulkan-drivers", "libvulkan1"]
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]
    if run(cmd, check=False).returncode != 0:
        run(["apt-get", "update"], check=False)
        proc = run(cmd, check=False)
        if proc.returncode != 0:
            return f"apt-get install {' '.join(pkgs)} failed:\n{tail(proc)}"
    return None if vulkan_icds() else "mesa-vulkan-drivers installed but no Vulkan ICD file found"


def ensure_torch(venv: Path) -> tuple[Path | None, str | None, str | None]:
    """The venv's python, torch's version and an error (when the venv cannot be made)."""
    py = venv / "bin" / "python"
    if not py.exists():
        proc = run([sys.executable, "-m", "venv", str(venv)], check=False)
        if proc.returncode != 0:
            return None, None, f"python -m venv failed:\n{tail(proc)}"
    probe = [str(py), "-c", "import torch; print(torch.__version__)"]
    proc = run(probe, check=False)
    if proc.returncode != 0:
        inst = run([str(py), "-m", "pip", "install", "-q", TORCH], check=False)
        if inst.returncode != 0:
            return None, None, f"pip install {TORCH} failed:\n{tail(inst)}"
        proc = run(probe, check=False)
        if proc.returncode != 0:
            return None, None, f"torch does not import:\n{tail(proc)}"
    return py, proc.stdout.strip(), None


def torch_env(env: dict[str, str], venv: Path, py: Path) -> dict[str, str]:
    env = dict(env)
    env["LIBTORCH_USE_PYTORCH"] = "1"
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    lib = subprocess.run(
        [str(py), "-c", "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"],
        text=True,
        capture_output=True,
    ).stdout.strip()
    if lib:
        env["LD_LIBRARY_PATH"] = f"{lib}{os.pathsep}{env.get('LD_LIBRARY_PATH', '')}"
    return env


def features_of(backends: list[str]) -> list[str]:
    feats = []
    for b in backends:
        f = {"flex": "flex", "wgpu": "wgpu", "cuda": "cuda", "tch": "tch", "tch-cuda": "tch"}[b]
        if f not in feats:
            feats.append(f)
    return feats


def summary_line(proc: subprocess.CompletedProcess) -> str:
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.startswith("test result:")]
    return lines[-1] if lines else ""

def fmt(v: object, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def render(report: dict) -> str:
    """The Markdown table of a report."""
    rows = {b["backend"]: b for b in report["backends"]}
    names = list(rows)
    out = [
        "# The same code on several backends",
        "",
        f"Produced by `{report['produced_by']}` on {report['environment'].get('cpus')} CPU cores "
        f"({report['environment'].get('date')}); features `{report['features']}`"
        + (f", torch {report['environment']['torch']}" if "torch" in report["environment"] else "")
        + ". wgpu runs on whatever Vulkan driver the machine has: on these GPU-less machines Mesa's "
        "software rasteriser lavapipe. Parity is against flex in the same process (MiniLM: against "
        "the sentence-transformers fixture).",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    lines = [
        ("tests/backends.rs", lambda b: (lambda t: "n/a" if t is None else ("pass" if t["passed"] else "FAIL"))(report["tests"].get(b))),
        ("MiniLM max abs diff vs sentence-transformers", lambda b: fmt(rows[b].get("minilm_max_abs_diff"), ".1e")),
        ("tabular tensors, max rel diff vs flex", lambda b: fmt(rows[b].get("tabular_tensor_rel_diff"), ".1e")),
        ("tabular probabilities, max abs diff vs flex", lambda b: fmt(rows[b].get("tabular_proba_max_abs_diff"), ".1e")),
        ("text LoRA tensors, max rel diff vs flex", lambda b: fmt(rows[b].get("text_tensor_rel_diff"), ".1e")),
        ("text logits, max abs diff vs flex", lambda b: fmt(rows[b].get("text_logit_max_abs_diff"), ".1e")),
        ("MiniLM sentences/s, batch 1", lambda b: fmt(rows[b].get("encoder_batch1_per_s"), ".1f")),
        ("MiniLM sentences/s, batch 32", lambda b: fmt(rows[b].get("encoder_batch32_per_s"), ".1f")),
        ("shipped tabular generation with the requirement encoded, ms (median of 5)", lambda b: fmt(rows[b].get("tabular_generation_ms"), ".1f")),
        ("meta-training task step (end-to-end rule, prior tasks), ms", lambda b: fmt(rows[b].get("meta_step_ms"), ".1f")),
    ]
    for label, f in lines:
        out.append(f"| {label} | " + " | ".join(f(b) for b in names) + " |")
    errs = [(b["backend"], b["error"]) for b in report["backends"] if b.get("error")]
    if errs:
        out += ["", "## Errors", ""]
        for b, e in errs:
            out += [f"- `{b}`:", "", "```text", e, "```", ""]
    return "\n".join(out) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.replace(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="flex,wgpu,tch", help="comma-separated: flex,wgpu,tch,cuda,tch-cuda")
    ap.add_argument("--cuda", action="store_true", help="also cuda and tch-cuda (a machine with an NVIDIA GPU)")
    ap.add_argument("--venv", type=Path, default=ROOT / "target" / "backends-venv")
    ap.add_argument("--seconds", type=float, default=2.0, help="least seconds per throughput figure")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "backends.json")
    ap.add_argument("--render-only", action="store_true", help="only rewrite the .md from the existing JSON")
    args = ap.parse_args()
    if args.render_only:
        write_atomic(args.out.with_suffix(".md"), render(json.loads(args.out.read_text())))
        log(f"wrote {args.out.with_suffix('.md')}")
        return 0

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.cuda:
        backends += [b for b in ("cuda", "tch-cuda") if b not in backends]
    if "flex" not in backends:
        backends.insert(0, "flex")
    errors: dict[str, str] = {}
    env = dict(os.environ)
    env.setdefault("CARGO_TERM_COLOR", "never")
    environment: dict[str, object] = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }

    if "wgpu" in backends:
        err = ensure_vulkan()
        environment["vulkan_icds"] = vulkan_icds()
        if err:
            errors["wgpu"] = err
        env.setdefault("XDG_RUNTIME_DIR", str(ROOT / "target" / "xdg-runtime"))
        Path(env["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(b.startswith("tch") for b in backends):
        py, version, err = ensure_torch(args.venv)
        if err:
            for b in backends:
                if b.startswith("tch"):
                    errors[b] = err
        else:
            environment["torch"] = version
            env = torch_env(env, args.venv, py)
    usable = [b for b in backends if b not in errors]

    def build(bs: list[str]) -> subprocess.CompletedProcess:
        feats = ",".join(features_of(bs))
        return run(
            ["cargo", "build", "--release", "-p", "modelgpt-experiments", "--features", feats, "--bin", "backends"],
            env=env,
            check=False,
        )

    proc = build(usable)
    # The LibTorch and CUDA builds are the fragile ones (a LibTorch to link; burn's `cuda`
    # feature downloads an LLVM bundle at build time): report a failure and go on without it.
    for feature, members in (("tch", ("tch", "tch-cuda")), ("cuda", ("cuda",))):
        if proc.returncode == 0 or not any(b in members for b in usable):
            continue
        for b in usable:
            if b in members:
                errors[b] = f"build with --features {feature} failed:\n{tail(proc)}"
        usable = [b for b in usable if b not in members]
        proc = build(usable)
    if proc.returncode != 0:
        raise RuntimeError(f"the backends binary does not build:\n{tail(proc)}")
    feats = ",".join(features_of(usable))

    tests: dict[str, dict[str, object]] = {}
    for b in usable:
        t_env = dict(env, BURN_DEVICE=b)
        cmd = ["cargo", "test", "--release", "-p", "modelgpt-hypernet", "--features", feats, "--test", "backends"]
        p = run(cmd, env=t_env, check=False)
        tests[b] = {"command": f"BURN_DEVICE={b} " + " ".join(cmd), "passed": p.returncode == 0, "summary": summary_line(p)}
        if p.returncode != 0:
            tests[b]["failure"] = tail(p, 60)

    tmp = ROOT / "target" / "backends-figures.json"
    cmd = [
        str(ROOT / "target" / "release" / "backends"),
        "--backends",
        ",".join(usable),
        "--seconds",
        str(args.seconds),
        "--out",
        str(tmp),
    ]
    run(cmd, env=env)
    figures = json.loads(tmp.read_text())
    for b in errors:
        figures["backends"].append({"backend": b, "error": errors[b]})

    report = {
        "produced_by": "python3 scripts/check_backends.py " + " ".join(sys.argv[1:]),
        "environment": environment,
        "features": feats,
        "tests": tests,
        **figures,
    }
    write_atomic(args.out, json.dumps(report, indent=2) + "\n")
    write_atomic(args.out.with_suffix(".md"), render(report))
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    failed = [b for b, t in tests.items() if not t["passed"]]
    if failed:
        log(f"tests failed on: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
