"""A Dask address that is not a Dask scheduler: exit 2 with one line, after a bounded wait.

Each server listens on 127.0.0.1 only, in a daemon thread of this process, and stops by
itself: it serves a bounded number of connections, each with a bounded read.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from heavytail.reports import open_executor
from heavytail.reports._parallel.executors import DASK_CONNECT_TIMEOUT, ExecutorError

HEAVYTAIL = Path(sys.executable).parent / "heavytail"
#: The guard on a whole command: the connect and handshake bound plus the interpreter's
#: start and imports. A command that hangs is killed here and fails the test.
GUARD = 120.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serving(server: socketserver.BaseServer, max_requests: int = 20) -> Iterator[str]:
    """Serve at most ``max_requests`` connections in a daemon thread; yield tcp://host:port."""
    server.timeout = 0.5

    def loop() -> None:
        for _ in range(max_requests * 4):  # handle_request returns on each timeout too
            if stop.is_set():
                return
            server.handle_request()

    stop = threading.Event()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"tcp://{host}:{port}"
    finally:
        stop.set()
        thread.join(timeout=10)
        server.server_close()


class _Garbage(socketserver.BaseRequestHandler):
    """Speaks first: bytes that, read as Dask's frame header, announce 3 EiB."""

    def handle(self) -> None:
        self.request.settimeout(5.0)
        try:
            self.request.sendall(b"\xff" * 64)
            self.request.recv(1024)
        except OSError:
            pass


def _open(address: str) -> None:
    with open_executor("dask", address=address, connect_timeout=2.0):
        pass


def _http_server() -> http.server.HTTPServer:
    return http.server.HTTPServer(("127.0.0.1", 0), _Quiet)


def _garbage_server() -> socketserver.TCPServer:
    return socketserver.TCPServer(("127.0.0.1", 0), _Garbage)


def _heavytail(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEAVYTAIL), *args],
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
        cwd=cwd,
    )


def _assert_one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("heavytail: error: ") and "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("make_server", [_http_server, _garbage_server], ids=["http", "garbage"])
def test_open_executor_refuses_a_server_that_is_not_a_scheduler(make_server: object) -> None:
    with _serving(make_server()) as address:  # type: ignore[operator]
        try:
            _open(address)
        except ExecutorError as exc:
            message = str(exc)
        else:
            pytest.fail(f"{address} was taken for a Dask scheduler")
    assert "no Dask scheduler answered" in message and address in message


@pytest.mark.parametrize("address", ["not a url", "tcp://", "http://127.0.0.1:80", "tcp://h:x"])
def test_open_executor_refuses_an_address_that_is_not_one(address: str) -> None:
    with pytest.raises(ExecutorError, match="`address`"):
        _open(address)


def test_the_connect_bound_is_a_few_seconds() -> None:
    assert 1.0 <= DASK_CONNECT_TIMEOUT <= 15.0


@pytest.mark.slow
@pytest.mark.parametrize("make_server", [_http_server, _garbage_server], ids=["http", "garbage"])
@pytest.mark.parametrize("command", ["verify", "sweep"])
def test_commands_exit_2_on_a_server_that_is_not_a_scheduler(
    tmp_path: Path, make_server: object, command: str
) -> None:
    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\n[grid]\nx = [0, 1]\n')
    with _serving(make_server()) as address:  # type: ignore[operator]
        if command == "verify":
            args = ["verify", "--size", "smoke", "--claim", "sgd.tail", "--quiet"]
            args += ["--out", str(tmp_path / "rep")]
        else:
            args = ["sweep", str(config), "--store", str(tmp_path / "s.sqlite"), "--quiet"]
        proc = _heavytail(*args, "--executor", "dask", "--address", address, cwd=tmp_path)
    _assert_one_line(proc, address, "no Dask scheduler answered")
    if command == "sweep":
        assert not (tmp_path / "s.sqlite").exists()  # refused before the store was made


@pytest.mark.parametrize("command", ["verify", "sweep"])
def test_commands_exit_2_on_an_address_that_is_not_one(tmp_path: Path, command: str) -> None:
    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\n[grid]\nx = [0, 1]\n')
    if command == "verify":
        args = ["verify", "--size", "smoke", "--claim", "sgd.tail", "--quiet"]
        args += ["--out", str(tmp_path / "rep")]
    else:
        args = ["sweep", str(config), "--store", str(tmp_path / "s.sqlite"), "--quiet"]
    proc = _heavytail(*args, "--executor", "dask", "--address", "not a url", cwd=tmp_path)
    _assert_one_line(proc, "--address", "'not a url'")


def test_a_closed_port_is_refused_quickly_too() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ExecutorError, match="no Dask scheduler answered"):
        _open(f"tcp://127.0.0.1:{port}")
