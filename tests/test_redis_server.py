"""The tests' own redis-server: it answers, holds data, and is gone afterwards."""

from __future__ import annotations

import redis

from tests.redis_server import ping, redis_server


def test_redis_server_starts_answers_and_stops() -> None:
    with redis_server() as url:
        client = redis.Redis.from_url(url)
        client.set("siteaudit:test", "yes")
        assert client.get("siteaudit:test") == b"yes"
        port = client.connection_pool.connection_kwargs["port"]
        client.close()
    assert not ping(port)
