"""The real platform for the differential test: deploy/run.sh --no_build in a temporary data dir
on free ports (as tests/web/run.sh starts it), and a small HTTP/JSON client of its gateway."""

import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

# Markers deploy/run.sh reads as "already loaded": the test brings its own county.
DEMO_MARKERS = ("demo-loaded", "demo-training-loaded", "demo-rotation-loaded",
                "demo-mentorship-loaded")


class ApiError(Exception):
    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")
        self.status = status
        self.body = body


class Platform:
    def __init__(self, repo, build_dir):
        self.repo = repo
        self.build_dir = build_dir
        self.data_dir = tempfile.mkdtemp(prefix="shidang-rules-diff.")
        self.proc = None
        self.port = None
        self.token = None

    def start(self, timeout_s=90):
        for marker in DEMO_MARKERS:
            open(os.path.join(self.data_dir, marker), "w").close()
        # A non-empty demo-accounts file: run.sh makes no demo accounts for a county we lack.
        accounts = os.path.join(self.data_dir, "demo-accounts")
        with open(os.open(accounts, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("none\n")
        env = dict(os.environ, SHIDANG_BUILD_DIR=self.build_dir)
        self.log_path = os.path.join(self.data_dir, "platform.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.repo, "deploy", "run.sh"), "--no_build",
                 f"--data_dir={self.data_dir}", "--base_port=0", "--redis_port=0"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("deploy/run.sh exited early:\n" + self.log_tail())
            token = self._admin_token()
            if token:
                self.token = token
                with open(os.path.join(self.data_dir, "run", "gateway-http.port")) as f:
                    self.port = int(f.read().strip())
                return
            time.sleep(0.3)
        raise RuntimeError("the platform did not come up in time:\n" + self.log_tail())

    def _admin_token(self):
        with open(self.log_path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0] == "admin" and parts[1].startswith("ey"):
                    return parts[1]
        return None

    def log_tail(self, lines=40):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-lines:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def call(self, method, path, body=None, query=None):
        url = f"http://127.0.0.1:{self.port}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = uuid.uuid4().hex
        for attempt in range(20):
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return json.loads(resp.read().decode())
            except urllib.error.HTTPError as e:
                body = e.read().decode()
                # The gateway's per-principal rate limit: wait as it asks, then send it again
                # (the same Idempotency-Key, so a write is never made twice).
                if e.code == 429 and attempt < 19:
                    time.sleep(float(e.headers.get("Retry-After") or 1))
                    continue
                raise ApiError(method, path, e.code, body) from None

    def paged(self, path, field, query):
        """Every row of a paged GET."""
        rows, token = [], ""
        while True:
            q = dict(query)
            if token:
                q["page.pageToken"] = token
            resp = self.call("GET", path, query=q)
            rows.extend(resp.get(field, []))
            token = resp.get("page", {}).get("nextPageToken", "")
            if not token:
                return rows, resp
