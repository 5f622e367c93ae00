"""Document checks in child processes with a memory and a time limit, reused between files.

audits/documents.py caps every decode it knows about, but it parses hostile files with C
libraries (qpdf, expat, zlib): whatever still slips through must cost one document, never
the scan. Each worker is `python -m crawler.document_sandbox`, which limits its own address
space (RLIMIT_AS) and then checks one file at a time: a request is a JSON header line and the
file's bytes on its stdin, the answer one JSON line on its stdout. A worker that runs out of
memory, time or luck is killed and replaced; the file gets a plain-English check_error.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO, Any

from audits.document_report import DocumentIssue, DocumentReport, unreadable
from audits.documents import document_kind

MB = 1024 * 1024
# Seconds a worker gets to stop after its input closes, before it is killed.
STOP_WAIT = 2.0
MAX_ANSWER = 4 * MB  # a report is a few kilobytes; more is a broken worker


class CheckFailed(Exception):
    """The worker did not answer: the message says why, in plain English."""


class Worker:
    """One child process and its pipes."""

    def __init__(self, memory_bytes: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler.document_sandbox", str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a hostile file's warnings are not the scan's output
            env=worker_environment(),
            close_fds=True,
        )
        self.buffer = b""

    def check(self, data: bytes, content_type: str | None, url: str | None, timeout: float) -> Any:
        """The worker's answer for one file; raises CheckFailed if it gives none in time."""
        assert self.process.stdin is not None
        header = {"content_type": content_type, "url": url, "size": len(data), "timeout": timeout}
        deadline = time.monotonic() + timeout
        try:
            self.process.stdin.write(json.dumps(header).encode() + b"\n")
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise CheckFailed(self.died()) from None
        line = self.read_line(deadline, timeout)
        try:
            return json.loads(line)
        except ValueError:
            raise CheckFailed("the document checker gave an answer that was not JSON") from None

    def read_line(self, deadline: float, timeout: float) -> bytes:
        stdout = self.process.stdout
        assert stdout is not None
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                raise CheckFailed(
                    f"checking it took longer than {seconds(timeout)}, the limit "
                    "(documents.timeout), so it was stopped"
                )
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                raise CheckFailed(self.died())
            self.buffer += chunk
            if len(self.buffer) > MAX_ANSWER:
                raise CheckFailed("the document checker gave an answer far too long to read")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def died(self) -> str:
        code = self.process.wait()
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            return f"the document checker stopped on this file (signal {name})"
        return f"the document checker stopped on this file (exit code {code})"

    def stop(self) -> None:
        """Close its input so it exits; kill it if it does not, and reap it either way."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


def worker_environment() -> dict[str, str]:
    """Enough to start Python: none of the scan's secrets (auth, SMTP) reach the worker."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    # The worker imports this package from wherever the scan imported it.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class DocumentSandbox:
    """A small pool of workers: at most `workers` files are checked at once.

    Workers are started when first needed and reused; a killed one is replaced by a new
    one on the next file. close() stops them all, so none outlives the scan.
    """

    def __init__(self, workers: int, memory_mb: int, timeout: float) -> None:
        self.memory_mb, self.timeout = memory_mb, timeout
        self.slots = threading.BoundedSemaphore(max(1, workers))
        self.idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self.running: set[Worker] = set()
        self.lock = threading.Lock()
        self.closed = False

    def check(
        self, data: bytes, content_type: str | None, url: str | None = None
    ) -> DocumentReport:
        """Check one file in a worker; never raises, whatever the file does to the worker."""
        with self.slots:
            try:
                worker = self.take()
            except (OSError, CheckFailed) as err:
                return failed(data, content_type, url, str(err))
            try:
                answer = worker.check(data, content_type, url, self.timeout)
            except CheckFailed as err:
                self.discard(worker)
                return failed(data, content_type, url, str(err))
            if "fatal" in answer:  # out of memory: the worker exits, it is not reused
                self.discard(worker)
                return failed(data, content_type, url, self.out_of_memory())
            near_limit = answer.pop("near_limit", False)
            retiring = answer.pop("retiring", False)
            report = report_from_json(answer)
            if not near_limit:
                if retiring:
                    self.discard(worker)  # it grew on this file, and exits: a new one starts
                else:
                    self.idle.put(worker)
                return report
            # A worker that came near its limit exits (a fresh one starts small); qpdf
            # turns a failed allocation into "damaged file", so such an error is memory.
            self.discard(worker)
            if report.error:
                return failed(data, content_type, url, self.out_of_memory())
            return report

    def out_of_memory(self) -> str:
        return (
            f"checking it needed more than {self.memory_mb} MB of memory, the limit "
            "(documents.max_memory_mb), so it was stopped; it may be damaged, or made "
            "to exhaust memory"
        )

    def take(self) -> Worker:
        with self.lock:
            if self.closed:
                raise CheckFailed("not checked: the scan was stopping")
            with contextlib.suppress(queue.Empty):
                return self.idle.get_nowait()
            worker = Worker(self.memory_mb * MB)
            self.running.add(worker)
            return worker

    def discard(self, worker: Worker) -> None:
        worker.kill()
        with self.lock:
            self.running.discard(worker)

    def close(self) -> None:
        """Stop every worker and wait for it: no process outlives the scan."""
        with self.lock:
            self.closed = True
            workers = list(self.running)
            self.running.clear()
        for worker in workers:
            worker.stop()


def seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


def failed(data: bytes, content_type: str | None, url: str | None, error: str) -> DocumentReport:
    """The report for a file the worker could not check, with why as its check_error."""
    try:
        kind = document_kind(b"", content_type, url)  # never the bytes: they did the damage
    except Exception:  # noqa: BLE001 - only a label for the report
        kind = "other"
    if kind == "other" and b"%PDF-" in data[:1024]:
        kind = "pdf"
    return unreadable(kind, error)


def report_from_json(answer: dict[str, Any]) -> DocumentReport:
    issues = [DocumentIssue(**item) for item in answer.pop("issues", [])]
    return DocumentReport(**answer, issues=issues)


# --- The worker ------------------------------------------------------------------------------


def serve(memory_bytes: int, source: IO[bytes], sink: IO[bytes]) -> None:
    """Answer requests until the input closes; exit after running out of memory."""
    from audits.documents import check_document

    while header := source.readline():
        request = json.loads(header)
        data = source.read(request["size"])
        # If the parent is gone or stuck, the worker must not go on forever: SIGALRM's
        # default action ends the process even inside C code.
        signal.alarm(int(request["timeout"]) + 5)
        try:
            answer = asdict(check_document(data, request["content_type"], request["url"]))
        except MemoryError:
            answer = {"fatal": "memory"}
        del data
        signal.alarm(0)
        if "fatal" not in answer and peak_memory() > memory_bytes // 2:
            answer["near_limit"] = True
        # The scan's memory is shared with the browsers: a worker that grew on one large
        # file does not keep that memory for the next; a fresh one starts small.
        if resident_memory() > RETIRE_RESIDENT_BYTES:
            answer["retiring"] = True
        sink.write(json.dumps(answer).encode() + b"\n")
        sink.flush()
        if "fatal" in answer or "near_limit" in answer or "retiring" in answer:
            return


# A worker holding more than this after a file exits (one starts with about 60 MB).
RETIRE_RESIDENT_BYTES = 128 * 1024 * 1024


def resident_memory() -> int:
    """The memory this process holds now (VmRSS)."""
    return memory_status(b"VmRSS:")


def peak_memory() -> int:
    """The most address space this process has had (VmPeak): what RLIMIT_AS limits."""
    return memory_status(b"VmPeak:")


def memory_status(field: bytes) -> int:
    """A size in bytes from /proc/self/status, such as VmRSS or VmPeak; 0 if it has none."""
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    memory_bytes = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scan's to handle
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from a library go to stderr, not into the answers
    serve(memory_bytes, sys.stdin.buffer, sink)


if __name__ == "__main__":
    main()
