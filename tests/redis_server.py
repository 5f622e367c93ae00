"""A real redis-server of the test's own, on a free port on 127.0.0.1, stopped at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# How long redis-server may take to answer its first PING on a loaded machine.
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ping(port: int, password: str | None = None) -> bool:
    """True if a Redis server on the port answers PING (in the protocol's own words), after
    AUTH with the password if given."""
    auth = f"AUTH {password}\r\n".encode() if password else b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(auth + b"PING\r\n")
            answer = b""
            while len(answer) < 12 and (more := sock.recv(16)):
                answer += more
                if b"+PONG" in answer or b"-" in answer:
                    break
            return answer.endswith(b"+PONG\r\n")
    except OSError:
        return False


@contextmanager
def redis_server(password: str | None = None) -> Iterator[str]:
    """Start redis-server (no persistence, loopback only; wanting the password, if given),
    yield its redis:// URL (with the password) once it answers PING, and stop it, only the
    process started here, at the end."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run scripts/setup.sh")
    folder = Path(tempfile.mkdtemp(prefix="siteaudit-redis-"))
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    if password:
        command += ["--requirepass", password]
    log = (folder / "redis.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ping(port, password):
            if process.poll() is not None or time.monotonic() > deadline:
                output = (folder / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start on port {port}:\n{output}")
            time.sleep(0.05)
        yield f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
