"""Emulator throughput: requests/s it serves to the official SDK and to a raw keep-alive client.

Run: ``.venv/bin/python bench/emulator_throughput.py``. Prints figures; asserts nothing.
The emulator runs in a separate process so the client's CPU is not counted against it.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode

os.environ.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from scanner.emulator import EmulatorServer, generate_fixture, signing


def _serve(conn, latency_ms: float) -> None:
    srv = EmulatorServer(
        generate_fixture(accounts=1000, seed=1), rate_limit=0, latency_ms=latency_ms
    )
    srv.start()
    conn.send(srv.endpoint)
    conn.recv()  # wait for "stop"
    srv.stop()


def _raw_get_account(conn: http.client.HTTPConnection, endpoint: str, account_id: str) -> None:
    query = [("AccountId", account_id)]
    headers = {
        "host": endpoint,
        "x-acs-action": "GetAccount",
        "x-acs-version": "2022-04-19",
        "x-acs-date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": signing.EMPTY_SHA256,
    }
    names = tuple(sorted(headers))
    sts = signing.acs3_string_to_sign(
        algorithm="ACS3-HMAC-SHA256",
        method="POST",
        path="/",
        query=query,
        header_values=lambda n: [headers[n]],
        signed_headers=names,
        hashed_payload=signing.EMPTY_SHA256,
    )
    sig = signing.acs3_signature("ACS3-HMAC-SHA256", "auditor-secret", sts)
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential=LTAI-auditor,SignedHeaders={';'.join(names)},Signature={sig}"
    )
    conn.request("POST", "/?" + urlencode(query), headers=headers)
    resp = conn.getresponse()
    body = json.loads(resp.read())
    if resp.status != 200:
        raise RuntimeError(body)


def _run(threads: int, work) -> float:
    done = [0]
    lock = threading.Lock()

    def loop() -> None:
        n = work()
        with lock:
            done[0] += n

    start = time.perf_counter()
    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0] / (time.perf_counter() - start)


def _measure(latency_ms: float, threads: int) -> str:
    from alibabacloud_resourcedirectorymaster20220419 import models
    from alibabacloud_resourcedirectorymaster20220419.client import Client
    from alibabacloud_tea_openapi.models import Config

    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(child, latency_ms))
    proc.start()
    endpoint = parent.recv()
    host, port = endpoint.split(":")

    def raw(per_thread: int = 200) -> int:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in range(per_thread):
            _raw_get_account(conn, endpoint, "1000000000000005")
        conn.close()
        return per_thread

    client = Client(
        Config(
            access_key_id="LTAI-auditor",
            access_key_secret="auditor-secret",
            endpoint=endpoint,
            protocol="http",
        )
    )

    def sdk(per_thread: int = 60) -> int:
        req = models.GetAccountRequest(account_id="1000000000000005")
        for _ in range(per_thread):
            client.get_account(req)
        return per_thread

    try:
        return (
            f"latency {latency_ms:>3} ms, {threads:>2} connections: "
            f"raw keep-alive {_run(threads, raw):7.0f} req/s, "
            f"official SDK {_run(threads, sdk):6.0f} req/s"
        )
    finally:
        parent.send("stop")
        proc.join()


def main() -> None:
    for latency_ms, threads in ((0, 8), (0, 32), (50, 32)):
        print(_measure(latency_ms, threads), flush=True)


if __name__ == "__main__":
    main()
