"""load_checkpoint: state dicts and safetensors load; code in a pickle never runs; clear errors."""

from __future__ import annotations

import os
import pickle
import shlex
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from heavytail.nn import build_model, load_checkpoint, teacher_student, train
from heavytail.theory import InvalidArgumentError


def _net() -> torch.nn.Module:
    return build_model("fcn2-4", in_shape=(5,), n_classes=2, rng=0)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert sorted(a) == sorted(b)  # safetensors stores the names sorted
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_state_dict_round_trip(tmp_path: Path, suffix: str) -> None:
    state = _net().state_dict()
    path = tmp_path / f"w{suffix}"
    torch.save(state, path)
    _same(load_checkpoint(path), dict(state))


def test_safetensors_round_trip(tmp_path: Path) -> None:
    state = {k: v.contiguous() for k, v in _net().state_dict().items()}
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    _same(load_checkpoint(path), state)


def test_nested_training_checkpoint(tmp_path: Path) -> None:
    state = _net().state_dict()
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model_state_dict": state, "lr": 0.1}, path)
    _same(load_checkpoint(path), dict(state))


class _Payload:
    """Unpickling this would create the marker file (a stand-in for any code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_pickle_payload_never_runs(tmp_path: Path, writer: str) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pt"
    obj = {"weight": torch.zeros(2, 2), "x": _Payload(marker)}
    if writer == "torch.save":
        torch.save(obj, path)
    else:
        with open(path, "wb") as handle:
            pickle.dump(obj, handle)
    # Positive control: the same file, unpickled without the restriction, does run it.
    control = tmp_path / "control.pkl"
    with open(control, "wb") as handle:
        pickle.dump(_Payload(tmp_path / "control-ran"), handle)
    with open(control, "rb") as handle:
        pickle.load(handle)
    assert (tmp_path / "control-ran").exists()

    with pytest.raises(InvalidArgumentError, match=r"evil\.pt"):
        load_checkpoint(path)
    assert not marker.exists()


class _ShellPayload:
    """Unpickling this would run a shell command (one that creates a marker file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_code_running_pickle_is_refused_as_code_not_as_corrupt(
    tmp_path: Path, writer: str, protocol: int
) -> None:
    """The refusal says the file would run code, and never advises weights_only=False."""
    marker = tmp_path / "system-ran"
    path = tmp_path / "evil.pt"
    obj = {"weight": torch.zeros(2, 2), "x": _ShellPayload(marker)}
    if writer == "torch.save":
        torch.save(obj, path, pickle_protocol=protocol)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    # Positive control: an unrestricted unpickler does run the payload.
    control = tmp_path / "control-ran"
    pickle.loads(pickle.dumps(_ShellPayload(control), protocol=protocol))
    assert control.exists()

    with pytest.raises(InvalidArgumentError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert not marker.exists()
    assert message.startswith(str(path))
    assert "would run code" in message
    assert "system" in message  # names the refused object (posix.system or nt.system)
    assert "corrupt" not in message
    assert "weights_only" not in message and "safe_globals" not in message


def test_no_message_relays_the_advice_to_load_anyway(tmp_path: Path) -> None:
    """Whatever torch's weights-only loader refuses, its advice to allow it is dropped."""
    for i, obj in enumerate([eval, print, _net()]):
        path = tmp_path / f"x{i}.pt"
        torch.save({"x": obj}, path)
        with pytest.raises(InvalidArgumentError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert "would run code" in message, message
        assert "weights_only" not in message and "safe_globals" not in message, message


def test_sparse_tensor_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "sparse.pt"
    state = dict(_net().state_dict())
    state["layers.0.weight"] = state["layers.0.weight"].to_sparse()
    torch.save(state, path)
    with pytest.raises(InvalidArgumentError, match=r"'layers\.0\.weight' is sparse"):
        load_checkpoint(path)
    # Control: the same weights, dense, load.
    state["layers.0.weight"] = state["layers.0.weight"].to_dense()
    torch.save(state, path)
    assert load_checkpoint(path)["layers.0.weight"].layout == torch.strided


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_complex_tensor_is_refused_by_name(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"complex{suffix}"
    state = {k: v.contiguous() for k, v in _net().state_dict().items()}
    state["layers.0.weight"] = state["layers.0.weight"] * (1 + 2j)
    if suffix == ".pt":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    with pytest.raises(InvalidArgumentError, match=r"'layers\.0\.weight' is complex"):
        load_checkpoint(path)


def test_whole_model_file_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save(_net(), path)
    refused = (
        r"would run code.*names the Python object\(s\) heavytail\.nn\._models\.FCN.*state_dict\(\)"
    )
    with pytest.raises(InvalidArgumentError, match=refused):
        load_checkpoint(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    folder = tmp_path / "d.pt"
    folder.mkdir()
    with pytest.raises(InvalidArgumentError, match="is a folder"):
        load_checkpoint(folder)
    with pytest.raises(InvalidArgumentError, match="`path`"):
        load_checkpoint(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("junk.pt", b"\x00\x01garbage" * 10, "not a readable PyTorch checkpoint"),
        ("text.pt", b"hello world", "not a readable PyTorch checkpoint"),
        ("junk.safetensors", b"\x00\x01garbage" * 10, "not a readable .safetensors"),
        ("w.npy", b"whatever", "unsupported checkpoint type"),
    ],
)
def test_corrupt_files(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidArgumentError, match=needle):
        load_checkpoint(path)


def test_truncated_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "w.pt"
    torch.save(_net().state_dict(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InvalidArgumentError, match="corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        ([1, 2, 3], "holds a list"),
        ({"a": 1, "b": "text"}, "not a state dict"),
        ({}, "empty"),
        (torch.zeros(3), "holds a Tensor"),
    ],
)
def test_not_a_checkpoint(tmp_path: Path, obj: object, needle: str) -> None:
    path = tmp_path / "x.pt"
    torch.save(obj, path)
    with pytest.raises(InvalidArgumentError, match=needle):
        load_checkpoint(path)


def test_training_result_file_gives_the_averaged_weights(tmp_path: Path) -> None:
    data = teacher_student(64, 32, in_features=5, n_classes=2, rng=0)
    result = train(_net(), data, eta=0.1, batch_size=16, max_steps=20, eval_every=10, rng=0)
    path = tmp_path / "run.safetensors"
    result.save(path)
    loaded = load_checkpoint(path)
    _same(loaded, result.state_dict(averaged=True))
    # The averaged weights differ from the final ones, so the choice is visible.
    final = result.state_dict(averaged=False)
    assert not torch.equal(loaded["layers.0.weight"], final["layers.0.weight"])
