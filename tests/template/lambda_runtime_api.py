"""A minimal Lambda Runtime API (the HTTP interface a custom runtime polls: `next`, `response`,
`error`, per the Lambda Developer Guide, "Using the Lambda runtime API for custom runtimes"), so a
test can run the real `rootwatch` binary as Lambda runs it and hand it events one at a time."""
import json
import queue
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import time

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self):
        self.pending = queue.Queue()
        self.results = {}
        self.done = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self.send_error(404)
                request_id, payload = api.pending.get()
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:rootwatch")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode() if length else ""
                parts = self.path.removeprefix(f"{PREFIX}/").split("/")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    with api.done:
                        api.results[parts[1]] = (parts[2], body)
                        api.done.notify_all()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, payload, timeout_s=60):
        """Hands the function one event; returns ("response" | "error", body)."""
        request_id = str(uuid.uuid4())
        self.pending.put((request_id, payload))
        with self.done:
            if not self.done.wait_for(lambda: request_id in self.results, timeout=timeout_s):
                raise TimeoutError(f"the function did not answer invocation {request_id} in {timeout_s} s")
            return self.results[request_id]

    def close(self):
        self.server.shutdown()


def build_function(root):
    """The debug `rootwatch` binary, built if needed, wherever cargo puts it (CARGO_TARGET_DIR)."""
    subprocess.run(["cargo", "build", "--quiet", "--bin", "rootwatch"], cwd=root, check=True, timeout=1800)
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=root, check=True, capture_output=True, text=True,
    )
    return Path(json.loads(metadata.stdout)["target_directory"]) / "debug" / "rootwatch"
