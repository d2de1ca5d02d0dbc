#!/usr/bin/python3
"""A demo channel adapter: connects PULL to the gatekeeper's channel endpoint and prints
every message it receives. With --record FILE it also appends each message id to FILE so the
demo sender can tell what was delivered."""
import argparse
import signal
import sys

import msgpack
import zmq


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("channel")
    ap.add_argument("endpoint")
    ap.add_argument("--record")
    args = ap.parse_args()
    # Stopped like any service (SIGTERM from the demo, systemd or docker): leave quietly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    sock.connect(args.endpoint)
    record = open(args.record, "a", buffering=1) if args.record else None
    print(f"[{args.channel} adapter] listening on {args.endpoint}", flush=True)
    try:
        while True:
            frames = sock.recv_multipart()
            try:
                header = msgpack.unpackb(frames[0], raw=False)
            except Exception as exc:  # an adapter must survive anything
                print(f"[{args.channel} adapter] undecodable header: {exc}", flush=True)
                continue
            payload = frames[1] if len(frames) > 1 else b""
            print(f"[{args.channel} adapter] deliver id={header.get('id')} "
                  f"to={header.get('to')} payload={payload[:40]!r}", flush=True)
            if record:
                record.write(f"{args.channel} {header.get('id')}\n")
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
