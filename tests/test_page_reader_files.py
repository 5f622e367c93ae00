"""The page readers close what they inherit from siteaudit, never the pool's own pipes,
even when a pipe got the number of a file siteaudit closed just before the workers forked."""

from __future__ import annotations

import os

from crawler.page_reader import _close_inherited, _open_files, _opened_since


def child_closes_inherited(files: dict, write_fd: int, inherited_fd: int) -> None:
    """In a fork: close as a reader does, then say on write_fd whether inherited_fd went."""
    pid = os.fork()
    if pid == 0:  # the child: a page reader starting
        code = 0
        try:
            _close_inherited(files)
            try:
                os.fstat(inherited_fd)
                os.write(write_fd, b"kept")
            except OSError:
                os.write(write_fd, b"closed")
        except BaseException:  # noqa: BLE001 - the parent reads the outcome from the pipe
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_pipe_given_a_closed_files_number_is_kept_and_the_inherited_file_closed() -> None:
    inherited = os.open(os.devnull, os.O_RDONLY)  # a file of siteaudit's
    reused = os.open(os.devnull, os.O_RDONLY)
    before = _open_files()
    os.close(reused)  # another thread closes a file ...
    read_fd, write_fd = os.pipe()  # ... and the pool's pipe gets its number
    try:
        assert reused in (read_fd, write_fd)
        child_closes_inherited({"before": before, "pool": None}, write_fd, inherited)
        assert os.read(read_fd, 10) == b"closed"  # the pipe the child wrote on was kept
        pool = _opened_since(before)
        assert read_fd in pool and write_fd in pool and inherited not in pool
        child_closes_inherited({"before": before, "pool": pool}, write_fd, inherited)
        assert os.read(read_fd, 10) == b"closed"
    finally:
        for fd in (inherited, read_fd, write_fd):
            os.close(fd)
