"""The viewers of bench/fanout.py, run as a separate process so that their CPU is not the
server's: ``python -m bench.fanout_clients CONFIG_JSON`` prints one JSON line of results.

Most viewers only read (and drop) what arrives; ``sample`` of them parse every frame and
time each comment whose text carries its send time (``t=<unix seconds>``).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any

from websockets.asyncio.client import connect

from daihuo.live.domain import issue_visitor_token, new_visitor_id, visitor_key


class Viewers:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.frames = 0
        self.open = 0

    async def viewer(
        self, url: str, hello: dict[str, Any], sample: bool, ready: asyncio.Queue[bool]
    ) -> None:
        async with connect(url, compression=None, max_size=2**22, open_timeout=120) as ws:
            await ws.send(json.dumps(hello))
            self.open += 1
            ready.put_nowait(True)
            async for raw in ws:
                self.frames += 1
                if not sample:
                    continue
                now = time.time()
                msg = json.loads(raw)
                for m in msg.get("msgs", ()):
                    text = m.get("text", "")
                    if m.get("type") == "comment" and text.startswith("t="):
                        self.latencies.append(now - float(text[2:]))


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    key = visitor_key(cfg["secret"].encode())
    expires = int(time.time()) + 3600
    every = max(1, cfg["viewers"] // cfg["sample"])
    v = Viewers()
    ready: asyncio.Queue[bool] = asyncio.Queue()
    tasks = []
    for i in range(cfg["viewers"]):
        base = cfg["bases"][i % len(cfg["bases"])]
        token = issue_visitor_token(key, cfg["session"], new_visitor_id(), expires)
        hello = {"type": "hello", "v": 1, "visitor": token, "device": f"bench-{i}"}
        url = f"{base}/ws/rooms/{cfg['session']}"
        tasks.append(asyncio.create_task(v.viewer(url, hello, i % every == 0, ready)))
        if i % 100 == 99:
            await asyncio.sleep(0.02)  # do not flood the accept queue
    for _ in range(cfg["viewers"]):
        await ready.get()
    print("READY", flush=True)
    # Read until the bench closes our stdin, then report.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    errors = [t.exception() for t in tasks if t.done() and t.exception() is not None]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "latencies": v.latencies,
        "frames": v.frames,
        "failed": len(errors),
        "errors": [repr(e) for e in errors[:5]],
    }


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(main(config))))
