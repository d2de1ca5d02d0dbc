#!/usr/bin/python3
"""Cache memory per person, for sizing (docs/OPERATIONS.md): RSS of the gatekeeper before and
after N distinct people's statuses are cached, and Redis's used_memory for its CLIENT TRACKING
table. Each message names a new person by external id, so one cache entry per message; nobody
is opted out, so every entry is a negative one, the common case.

  bench/cache_memory.py [N [PATH/TO/gatekeeper]]     (default 1000000, build/gatekeeper/gatekeeper)

Starts its own redis-server and gatekeeper on free loopback ports and stops them after."""
import os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request
import msgpack, zmq

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build/gatekeeper/gatekeeper")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

def metric(http, name):
    for line in urllib.request.urlopen(f"{http}/metrics", timeout=5).read().decode().splitlines():
        if line.startswith(name + " "): return float(line.split()[1])
    return None

work = tempfile.mkdtemp(prefix="gk-mem-")
ports = {k: free_port() for k in ["redis", "msg", "ev", "dec", "pub", "mail", "http"]}
redis = subprocess.Popen(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", work],
                         stdout=subprocess.DEVNULL)
cfg = f"""
[ingress]
messages = "tcp://127.0.0.1:{ports['msg']}"
events = "tcp://127.0.0.1:{ports['ev']}"
[egress]
decisions = "tcp://127.0.0.1:{ports['dec']}"
events = "tcp://127.0.0.1:{ports['pub']}"
[channels.MAIL]
endpoint = "tcp://127.0.0.1:{ports['mail']}"
require_address = true
[redis]
url = "redis://127.0.0.1:{ports['redis']}/0"
[http]
listen = "127.0.0.1:{ports['http']}"
auth_tokens_env = ""
[log]
level = "warn"
[cache]
max_entries = {N * 2}
"""
open(f"{work}/gk.toml", "w").write(cfg)
time.sleep(0.5)
gk = subprocess.Popen([BIN, "--config", f"{work}/gk.toml"])
http = f"http://127.0.0.1:{ports['http']}"
for _ in range(200):
    try:
        if urllib.request.urlopen(f"{http}/readyz", timeout=1).status == 200: break
    except Exception: time.sleep(0.05)
ctx = zmq.Context()
sink = ctx.socket(zmq.PULL); sink.setsockopt(zmq.RCVHWM, 1_000_000); sink.connect(f"tcp://127.0.0.1:{ports['mail']}")
received = [0]
def drain():
    while received[0] < N:
        sink.recv_multipart(); received[0] += 1
t = threading.Thread(target=drain, daemon=True); t.start()
push = ctx.socket(zmq.PUSH); push.setsockopt(zmq.SNDHWM, 1_000_000); push.connect(f"tcp://127.0.0.1:{ports['msg']}")
time.sleep(0.5)
# A little traffic first so the baseline includes warmed-up buffers, pools and threads.
def header(i):
    who = f"person-{i:09d}"
    return msgpack.packb({"id": f"msg-{i:012d}", "channel": "MAIL", "user": {"id": who, "bu": "retail-eu"},
                          "to": who + "@mail.example.com",
                          "campaign": {"id": "winter-newsletter-2026", "type": "batch", "transactional": False}})
WARM = 10_000
for i in range(WARM):
    push.send_multipart([header(N + i), b"x" * 64])
while received[0] < WARM: time.sleep(0.05)
time.sleep(1)
# Empty the cache of the warm-up people again: FLUSHALL is delivered as a whole-cache flush.
subprocess.run(["redis-cli", "-p", str(ports["redis"]), "FLUSHALL"], stdout=subprocess.DEVNULL)
time.sleep(1)
received[0] = 0
def redis_mem():
    out = subprocess.run(["redis-cli", "-p", str(ports["redis"]), "INFO", "memory"], capture_output=True, text=True).stdout
    return int([l for l in out.splitlines() if l.startswith("used_memory:")][0].split(":")[1])
before = rss_kib(gk.pid); entries0 = metric(http, "gk_cache_entries"); rmem0 = redis_mem()
start = time.time()
for i in range(N):
    push.send_multipart([header(i), b"x" * 64])
while received[0] < N and time.time() - start < 600: time.sleep(0.2)
time.sleep(1)
after = rss_kib(gk.pid); entries = metric(http, "gk_cache_entries"); rmem = redis_mem()
print(f"redis used_memory delta={(rmem - rmem0)/1048576:.1f} MiB ({(rmem - rmem0)/max(1, entries - entries0):.0f} bytes per tracked key, the CLIENT TRACKING table)")
print(f"people={N} cache_entries before={entries0:.0f} after={entries:.0f} delivered={received[0]}")
print(f"RSS before={before} KiB after={after} KiB delta={(after - before)/1024:.1f} MiB "
      f"per entry={(after - before) * 1024 / max(1, entries - entries0):.0f} bytes "
      f"(key gk:u:retail-eu:person-NNNNNNNNN, {len('gk:u:retail-eu:person-000000001')} bytes)")
gk.terminate(); gk.wait(30); redis.terminate(); redis.wait()
shutil.rmtree(work, ignore_errors=True)
