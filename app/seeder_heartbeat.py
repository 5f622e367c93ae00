"""The seeder's claim on its scans in Redis, renewed from a thread of its own while it
finishes them."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

import redis

from crawler.distributed import ScanKeys

if TYPE_CHECKING:
    from app.distributed import SharedScan

log = logging.getLogger(__name__)

# How long a seeder's claim to write a scan (…:seeder) outlives its last renewal: a seeder
# killed with -9 is taken over by --resume this long after.
SEEDER_SECONDS = 15


class Heartbeat:
    """The seeder's claim on its scans (…:seeder) renewed from a thread of its own while it
    finishes them (the writer's last commits, after_crawl, the scan's row), a stretch with no
    round of draining to renew it: a --resume then sees a seeder still at work, not a killed
    one, and leaves the scans to it. Each scan's state says `finishing` meanwhile; given
    `finishing`, only those scans' (a scan of a --sites file is finished as soon as its own
    crawl is over, while the others go on: their claims are renewed, their states left)."""

    def __init__(
        self,
        client: redis.Redis,
        scans: list[SharedScan],
        finishing: list[SharedScan] | None = None,
    ) -> None:
        self.client = client
        self.keys = {scan.keys.token: scan.keys for scan in scans}
        self.finishing = {scan.keys.token for scan in (scans if finishing is None else finishing)}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="seeder-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.renew(status="finishing")
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()

    def run(self) -> None:
        while not self.stopping.wait(SEEDER_SECONDS / 3):
            self.renew()

    def renew(self, status: str | None = None) -> None:
        with self.lock:
            for token, keys in self.keys.items():
                try:
                    self.client.set(keys.key("seeder"), os.getpid(), ex=SEEDER_SECONDS)
                    if status and token in self.finishing and self.client.exists(keys.key("state")):
                        self.client.hset(keys.key("state"), "status", status)
                except redis.RedisError as err:
                    log.warning("could not renew the claim on the scan in Redis: %s", err)

    def release(self, keys: ScanKeys) -> None:
        """Renew the scan's claim no more: its keys are about to be deleted."""
        with self.lock:
            self.keys.pop(keys.token, None)
