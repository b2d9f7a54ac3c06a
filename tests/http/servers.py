#!/usr/bin/python3
"""Runs the HTTP servers of the store tests on loopback, and stops them.

    servers.py STATE_DIR OWNER_PID

Starts nginx (WebDAV, from nginx.conf.in) serving STATE_DIR/root, and a small
fault server in front of it that misbehaves on request, so tests can see
retries, timeouts and cut-off downloads. Writes STATE_DIR/nginx.port,
STATE_DIR/fault.port and finally STATE_DIR/ready. Everything stops when this
process gets SIGTERM or SIGINT, when OWNER_PID exits, or after
DLRUN_TEST_SERVER_LIFETIME seconds (default 300): a crashed test can never
leave a server behind. nginx also gets SIGTERM if this process dies.

Fault server paths (the rest of the path is forwarded to nginx):
    /fail/K/PATH       the first K requests for PATH answer 500
    /hang/K/PATH       the first K requests get no answer for 10 s
    /truncate/K/PATH   the first K GETs send half the body, then close
    /status/CODE/PATH  always answer CODE
    /_hits/METHOD/PATH how many METHOD requests PATH (with its prefix) got
"""
import ctypes
import http.client
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HANG_SECONDS = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    # PR_SET_PDEATHSIG: nginx gets SIGTERM when this supervisor goes away.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_nginx(state):
    root = os.path.join(state, "root")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        template = f.read()
    for _ in range(5):
        port = free_port()
        conf = template.replace("@DIR@", state).replace("@ROOT@", root).replace("@PORT@", str(port))
        path = os.path.join(state, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        log = open(os.path.join(state, "nginx.out"), "ab")
        proc = subprocess.Popen(["nginx", "-e", os.path.join(state, "error.log"), "-p", state, "-c", path],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc, port
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    sys.exit("servers.py: nginx did not start; see %s/error.log" % state)


class FaultHandler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1, so uploads that send "Expect: 100-continue" get their answer.
    protocol_version = "HTTP/1.1"
    hits = {}
    lock = threading.Lock()
    upstream = 0

    def log_message(self, fmt, *args):
        pass

    def count(self):
        key = self.command + " " + self.path
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            return self.hits[key]

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def answer(self, code, text=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def forward(self, path, data, truncate=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "depth")}
        conn.request(self.command, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-type", "etag", "last-modified", "location"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
        if truncate:
            self.close_connection = True
        conn.close()

    def handle_any(self):
        n = self.count()
        data = self.body()
        parts = self.path.split("/", 3)  # ['', mode, arg, rest]
        if len(parts) < 4:
            return self.answer(400, b"unknown fault path\n")
        mode, arg, rest = parts[1], parts[2], "/" + parts[3]
        if mode == "_hits":
            key = arg + " " + rest
            with self.lock:
                return self.answer(200, str(self.hits.get(key, 0)).encode())
        if mode == "status":
            return self.answer(int(arg), b"injected status\n")
        if mode == "fail" and n <= int(arg):
            return self.answer(500, b"injected failure\n")
        if mode == "hang" and n <= int(arg):
            time.sleep(HANG_SECONDS)
            self.close_connection = True
            return
        self.forward(rest, data, truncate=(mode == "truncate" and n <= int(arg)))

    do_GET = do_PUT = do_DELETE = do_HEAD = do_MKCOL = handle_any


def main():
    state, owner = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    lifetime = float(os.environ.get("DLRUN_TEST_SERVER_LIFETIME", "300"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    nginx, nginx_port = start_nginx(state)
    FaultHandler.upstream = nginx_port
    fault = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultHandler)
    fault.daemon_threads = True
    threading.Thread(target=fault.serve_forever, daemon=True).start()
    for name, value in (("nginx.port", nginx_port), ("fault.port", fault.server_address[1]),
                        ("servers.pid", os.getpid())):
        with open(os.path.join(state, name), "w") as f:
            f.write("%d\n" % value)
    open(os.path.join(state, "ready"), "w").close()

    deadline = time.monotonic() + lifetime
    while not stop.is_set() and time.monotonic() < deadline and nginx.poll() is None:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            break
        stop.wait(0.5)
    fault.shutdown()
    nginx.terminate()
    try:
        nginx.wait(timeout=5)
    except subprocess.TimeoutExpired:
        nginx.kill()
        nginx.wait()


if __name__ == "__main__":
    main()
