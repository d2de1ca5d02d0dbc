#!/usr/bin/python3
"""The demo's campaign engine: sends a mixed batch of candidate messages to the gatekeeper,
reads the decisions outlet, waits until every message is accounted for (delivered by an
adapter or decided), and prints each outcome and a summary table."""
import argparse
import collections
import os
import sys
import time

import msgpack
import zmq

RT_TX = {"id": "pwd-reset", "type": "realtime", "transactional": True}
BATCH_TX = {"id": "invoice-run", "type": "batch", "transactional": True}
PROMO = {"id": "black-friday", "type": "batch"}

# (id, what it shows, header)
BATCH = [
    ("m1", "plain: nobody opted out", {"channel": "MAIL", "user": {"id": "alice"}, "to": "alice@example.com", "campaign": PROMO}),
    ("m2", "channel opt-out (MAIL)", {"channel": "MAIL", "user": {"id": "bob"}, "to": "bob@example.com", "campaign": PROMO}),
    ("m3", "same person, other channel", {"channel": "SMS", "user": {"id": "bob"}, "to": "+15550101", "campaign": PROMO}),
    ("m4", "ALL opt-out", {"channel": "SMS", "user": {"id": "carol"}, "to": "+15550102", "campaign": PROMO}),
    ("m5", "blacklisted, even realtime transactional", {"channel": "MAIL", "user": {"id": "mallory"}, "to": "m@example.com", "campaign": RT_TX}),
    ("m6", "realtime transactional passes ALL opt-out", {"channel": "MAIL", "user": {"id": "carol"}, "to": "carol@example.com", "campaign": RT_TX}),
    ("m7", "batch transactional is not exempt", {"channel": "MAIL", "user": {"id": "carol"}, "to": "carol@example.com", "campaign": BATCH_TX}),
    ("m8", "missing address", {"channel": "SMS", "user": {"id": "alice"}, "campaign": PROMO}),
    ("m9", "unknown channel", {"channel": "FAX", "user": {"id": "alice"}, "to": "+15550100"}),
    ("m10", "EMAIL alias of MAIL, opted out", {"channel": "email", "user": {"id": "bob"}, "to": "bob@example.com"}),
    ("m11", "lead by email, SMS opt-out", {"channel": "SMS", "user": {"email": "Dave@Example.com", "bu": "shop"}, "to": "+15550103"}),
]


def send(push, mid, header, payload=None):
    header = dict(header, id=mid)
    push.send_multipart([msgpack.packb(header, use_bin_type=True),
                         payload or f"<html>hello {mid}</html>".encode()])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", required=True)
    ap.add_argument("--decisions", required=True)
    ap.add_argument("--delivered", required=True, help="file the adapters record ids in")
    ap.add_argument("--only", nargs="*", help="send only these extra (id:channel:user) messages")
    ap.add_argument("--title", default="Demo batch")
    ap.add_argument("--timeout", type=float, default=10,
                    help="seconds to wait for every outcome (default 10)")
    args = ap.parse_args()

    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.connect(args.messages)
    decisions = ctx.socket(zmq.PULL)
    decisions.connect(args.decisions)

    batch = BATCH
    if args.only:
        batch = []
        for spec in args.only:
            mid, channel, user, what = spec.split(":", 3)
            batch.append((mid, what, {"channel": channel, "user": {"id": user}, "to": f"{user}@example.com"}))
    for mid, _, header in batch:
        send(push, mid, header)
    with_malformed = not args.only
    if with_malformed:
        push.send_multipart([b"\xc1 not msgpack at all", b"payload"])

    expected = {mid for mid, _, _ in batch}
    outcome = {}
    deadline = time.time() + args.timeout
    malformed_seen = not with_malformed
    poller = zmq.Poller()
    poller.register(decisions, zmq.POLLIN)
    while time.time() < deadline and (len(outcome) < len(expected) or not malformed_seen):
        if dict(poller.poll(100)).get(decisions):
            frames = decisions.recv_multipart()
            d = msgpack.unpackb(frames[0], raw=False)
            if d["id"] == "":
                malformed_seen = True
                print(f"decision  id=''    {d['verdict']:<10} {d['reason']:<18} ({d.get('detail','')})")
                continue
            outcome[d["id"]] = f"{d['verdict']} {d['reason']}"
            print(f"decision  id={d['id']:<5} {d['verdict']:<10} {d['reason']}")
        if os.path.exists(args.delivered):
            with open(args.delivered) as f:
                for line in f:
                    channel, mid = line.split()
                    if mid in expected and mid not in outcome:
                        outcome[mid] = f"forwarded to {channel}"

    print()
    print(f"== {args.title} ==")
    print(f"{'id':<5} {'scenario':<44} outcome")
    for mid, what, _ in batch:
        print(f"{mid:<5} {what:<44} {outcome.get(mid, 'MISSING')}")
    counts = collections.Counter(o.split()[0] for o in outcome.values())
    extra = 1 if with_malformed else 0
    print(f"summary: sent={len(batch) + extra} forwarded={counts['forwarded']} "
          f"suppressed={counts['suppressed']} rejected={counts['rejected'] + extra}")
    missing = expected - outcome.keys()
    if missing or not malformed_seen:
        print(f"ERROR: no outcome for {sorted(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
