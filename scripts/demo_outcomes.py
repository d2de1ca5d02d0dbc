#!/usr/bin/python3
"""Part of scripts/demo: sends a few candidate messages, each given as
ID|CHANNEL|USER|TO[|tx] (tx: realtime transactional), and prints where each one ended:
forwarded to an adapter, or the decision with its reason."""
import os
import sys
import time

import msgpack
import zmq


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    messages, decisions_ep, delivered = sys.argv[1:4]
    specs = [s.split("|") for s in sys.argv[4:]]
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect(messages)
    decisions = ctx.socket(zmq.PULL)
    decisions.connect(decisions_ep)
    for spec in specs:
        mid, channel, user, to = spec[:4]
        header = {"id": mid, "channel": channel, "user": {"id": user}, "to": to}
        if len(spec) > 4 and spec[4] == "tx":
            header["campaign"] = {"id": "pwd-reset", "type": "realtime", "transactional": True}
        push.send_multipart([msgpack.packb(header, use_bin_type=True), b"hello"])
    expected = {s[0] for s in specs}
    outcome = {}
    poller = zmq.Poller()
    poller.register(decisions, zmq.POLLIN)
    deadline = time.time() + 10
    while time.time() < deadline and len(outcome) < len(expected):
        if dict(poller.poll(100)).get(decisions):
            d = msgpack.unpackb(decisions.recv_multipart()[0], raw=False)
            if d["id"] in expected:
                outcome[d["id"]] = f"{d['verdict']} {d['reason']}"
        if os.path.exists(delivered):
            with open(delivered) as f:
                for line in f:
                    channel, mid = line.split()
                    if mid in expected and mid not in outcome:
                        outcome[mid] = f"forwarded to {channel}"
    for spec in specs:
        tx = " (realtime transactional)" if len(spec) > 4 and spec[4] == "tx" else ""
        print(f"{spec[0]:<4} {spec[1]:<5} user={spec[2]:<6} to={spec[3]:<22}{tx:<26} -> "
              f"{outcome.get(spec[0], 'MISSING')}")
    return 0 if len(outcome) == len(expected) else 1


if __name__ == "__main__":
    sys.exit(main())
