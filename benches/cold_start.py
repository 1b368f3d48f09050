#!/usr/bin/env python3
"""`make bench-cold`: the cold path of rootwatch, from process start to the first alert accepted
by SNS over TLS, against the same path in a Python 3 + boto3 peer, measured in the same run.

    cold_start.py [--runs N] [--rust LABEL=PATH ...] [--no-python] [--no-table] [--no-cpu-share]
                  [--cpu-max "QUOTA PERIOD"] [--json FILE]

Each run starts a fresh function process under a local Lambda Runtime API (a small emulator
below: it hands out one event on the first `GET .../invocation/next` and notes when the response
is posted), with a local SNS (and DynamoDB) served by moto over TLS with a certificate from a CA
made for the run. The function trusts that CA through the standard settings: `SSL_CERT_FILE`
for the Rust SDK's default HTTPS client (rustls with the platform's roots, which that variable
replaces; the Rust SDK does not read `AWS_CA_BUNDLE`, awslabs/aws-sdk-rust#1362) and
`AWS_CA_BUNDLE` for boto3. The bundle is the system's roots plus the run's CA, so both load a
full root store as they would on Lambda.

Three times per run, from the emulator's clock (time.monotonic_ns):
  init   process start (just before fork/exec) -> its first `next` request (ready for an event)
  event  the event handed out -> the response posted (after SNS accepted the publish)
  total  process start -> the response posted: how long the first alert of a cold start takes
and, from wait4(), the CPU time the process used and its peak RSS.

Every configuration runs once unmeasured (to warm the page cache), then N measured runs,
interleaved so that machine noise falls on all of them alike. The whole set runs at full CPU
and then under a CPU share like a 128 MB Lambda's (128/1769 of a vCPU, about 1/14): a cgroup
v2 `cpu.max` where the kernel offers one, else cgroup v1 `cpu.cfs_quota_us`; only the function
process is in it, not moto nor the emulator (on Lambda, SNS is not on the function's CPU).

After the full-CPU runs, moto alone: the same requests (a new TLS connection and
GetTopicAttributes, then rootwatch's Publish replayed from moto's record) from a warm client
whose own CPU is subtracted. No function making the same requests reaches its first alert faster
than that against this server, so it bounds the ratio this bench can show; the report prints the
bound (a ratio of medians).
"""

import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import ssl
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT = ROOT / "events" / "root-console-sign-in-without-mfa.json"
PEER = ROOT / "benches" / "python_peer.py"
REGION = "us-east-1"
TABLE = "rootwatch-bench-state"
DISPLAY_NAME = "rootwatch"
# Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB, so 128 MB has 7.2%.
DEFAULT_CPU_MAX = "7236 100000"
SYSTEM_ROOTS = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem"]


def target_dir():
    """Where cargo builds: asked of cargo, so CARGO_TARGET_DIR and cargo configs are honoured."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return Path(json.loads(out)["target_directory"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- TLS: a CA for the run, a server certificate for 127.0.0.1, a bundle the clients trust ---

def make_certificates(work):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    # RSA 2048, like the certificates AWS endpoints present (Amazon RSA 2048 CAs).
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rootwatch bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (work / "server.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    # The server sends its certificate and the CA's, as real endpoints send their chain.
    (work / "server.crt").write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    system = next((Path(p) for p in SYSTEM_ROOTS if Path(p).is_file()), None)
    roots = system.read_bytes() if system else b""
    (work / "bundle.pem").write_bytes(roots + b"\n" + ca.public_bytes(pem))
    return work / "server.crt", work / "server.key", work / "bundle.pem", system


# --- moto over TLS ---

def start_moto(work, cert, key, bundle):
    port = free_port()
    log = open(work / "moto.log", "wb")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port),
                             "--ssl-cert", str(cert), "--ssl-key", str(key)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"https://127.0.0.1:{port}"
    import boto3
    from botocore.config import Config
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"bench-cold: moto_server exited; see {work / 'moto.log'}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("bench-cold: moto_server did not start within 30 s")

    def client(service):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, verify=str(bundle),
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}))
    # The setup goes over TLS too, with the same bundle: it proves the certificate works.
    topic = client("sns").create_topic(Name="rootwatch-bench",
                                       Attributes={"DisplayName": DISPLAY_NAME})["TopicArn"]
    client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return proc, endpoint, topic, client


# --- the local Lambda Runtime API ---

class RuntimeApi(http.server.ThreadingHTTPServer):
    """Serves one invocation: the first `next` gets the event, later ones wait until shutdown."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the function was killed
            super().handle_error(request, client_address)

    def __init__(self, event):
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.event = json.dumps(event).encode()
        self.request_id = str(uuid.uuid4())
        self.handed_out = None  # monotonic ns of the first `next`
        self.answered = None  # monotonic ns of the response (or error) post
        self.outcome = None  # ("response" | "error" | "init-error", body)
        self.done = threading.Event()
        self.closing = threading.Event()

    @property
    def address(self):
        return f"127.0.0.1:{self.server_address[1]}"


class RuntimeApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        now = time.monotonic_ns()
        api = self.server
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.reply(404)
        if api.handed_out is not None:
            api.closing.wait()  # one event per process; the bench kills it after the response
            return
        api.handed_out = now
        deadline = int(time.time() * 1000) + 30_000
        self.reply(200, api.event, [
            ("Lambda-Runtime-Aws-Request-Id", api.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             f"arn:aws:lambda:{REGION}:111122223333:function:rootwatch"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        now = time.monotonic_ns()
        api = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        prefix = f"/2018-06-01/runtime/invocation/{api.request_id}/"
        if self.path == prefix + "response":
            outcome = "response"
        elif self.path == prefix + "error":
            outcome = "error"
        elif self.path == "/2018-06-01/runtime/init/error":
            outcome = "init-error"
        else:
            return self.reply(404)
        self.reply(202, b'{"status":"OK"}')
        if api.outcome is None:
            api.answered, api.outcome = now, (outcome, body.decode(errors="replace"))
            api.done.set()


# --- CPU share ---

class CpuShare:
    """A cgroup holding the function process to `quota` µs of CPU per `period` µs."""

    def __init__(self, quota, period):
        self.quota, self.period = quota, period
        self.path = self.kind = None
        self.problem = None
        self.enabled_on = None  # a subtree_control this bench turned cpu on in, to turn it off
        name = f"rootwatch-bench-{os.getpid()}"
        mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
        v2 = [m[1] for m in mounts if m[2] == "cgroup2"]
        v1 = [m[1] for m in mounts if m[2] == "cgroup" and "cpu" in m[3].split(",")]
        problems = []
        for mount in v2:
            try:
                if "cpu" not in Path(mount, "cgroup.controllers").read_text().split():
                    problems.append(f"cgroup v2 at {mount} has no cpu controller")
                    continue
                control = Path(mount, "cgroup.subtree_control")
                if "cpu" not in control.read_text().split():
                    control.write_text("+cpu")
                    self.enabled_on = control
                path = Path(mount, name)
                path.mkdir()
                (path / "cpu.max").write_text(f"{quota} {period}")
                self.path, self.kind = path, f"cgroup v2 cpu.max \"{quota} {period}\""
                return
            except OSError as error:
                problems.append(f"cgroup v2 at {mount}: {error}")
        for mount in v1:
            try:
                path = Path(mount, name)
                path.mkdir()
                (path / "cpu.cfs_period_us").write_text(str(period))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
                self.path = path
                self.kind = f"cgroup v1 cpu.cfs_quota_us={quota} cpu.cfs_period_us={period}"
                return
            except OSError as error:
                problems.append(f"cgroup v1 at {mount}: {error}")
        self.problem = "; ".join(problems) or "no cgroup cpu controller is mounted"

    def enter(self):
        """Runs in the child between fork and exec: the function starts inside the share."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def throttled(self):
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat.get("nr_throttled", 0)), int(stat.get("nr_periods", 0))

    def remove(self):
        """Removes the cgroup and, if this bench enabled the cpu controller, disables it again."""
        if self.path:
            for _ in range(50):
                try:
                    self.path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        if self.enabled_on:
            try:
                self.enabled_on.write_text("-cpu")
            except OSError as error:
                print(f"bench-cold: could not turn the cpu controller off again in {self.enabled_on}: "
                      f"{error}", file=sys.stderr)


# --- one run ---

def peak_rss_kib(pid):
    """VmHWM: wait4's ru_maxrss would include the forked copy of this Python process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def run_once(command, env, event, work, share=None, timeout=120):
    """One cold start to the first alert. With STATE_TABLE set, the alert must say the table
    guarded it (`"deduplicated":true`): a table that failed open would not be measured."""
    api = RuntimeApi(event)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": api.address}
    log = open(work / "function.log", "ab")
    started = time.monotonic_ns()
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=share.enter if share else None)
    finished = api.done.wait(timeout)
    peak_kib = peak_rss_kib(proc.pid)
    exited = proc.poll()  # reaps the process only if it has already died
    if exited is None:
        proc.send_signal(signal.SIGTERM)  # not SIGKILL, so that a wrapper (perf record) can finish
        for _ in range(500):
            pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.01)
        else:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = -signal.SIGTERM
    api.closing.set()
    api.shutdown()
    api.server_close()
    log.close()
    if exited is not None:
        raise RuntimeError(f"{command[-1]} exited with status {exited} before it answered; see {work / 'function.log'}")
    if not finished:
        raise RuntimeError(f"no response within {timeout} s; see {work / 'function.log'}")
    outcome, body = api.outcome
    if outcome != "response" or '"alerted"' not in body:
        raise RuntimeError(f"{outcome}: {body}; see {work / 'function.log'}")
    if "STATE_TABLE" in env and '"deduplicated":true' not in body.replace(" ", ""):
        raise RuntimeError(f"the state table did not guard the alert: {body}; see {work / 'function.log'}")
    ms = 1e-6
    return {
        "init": (api.handed_out - started) * ms,
        "event": (api.answered - api.handed_out) * ms,
        "total": (api.answered - started) * ms,
        "cpu": (usage.ru_utime + usage.ru_stime) * 1000,
        "rss": peak_kib / 1024,
    }


def sent_notifications(endpoint, bundle, topic):
    """What moto's SNS recorded as published to the topic (its own record, /moto-api/data.json):
    `[id, message, subject, attributes, group]` each."""
    import urllib.request
    context = ssl.create_default_context(cafile=str(bundle))
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", context=context) as response:
        data = json.load(response)
    return [n for t in data["sns"]["Topic"] if t["arn"] == topic for n in t["sent_notifications"]]


def count_publishes(endpoint, bundle, topic):
    return len(sent_notifications(endpoint, bundle, topic))


def moto_floor(endpoint, bundle, topic, runs):
    """moto's own time for what the function's cold path asks of it: a new TLS connection and
    GetTopicAttributes (init), then the Publish rootwatch made (replayed from moto's record), sent
    from a warm client that uses little CPU; that CPU is subtracted. No function making these
    requests can reach its first alert faster than this against this server, so it bounds the
    ratio the bench can show."""
    import http.client
    import urllib.parse
    context = ssl.create_default_context(cafile=str(bundle))
    # rootwatch's message is the largest: it carries the email-json and chat parts the peer lacks.
    _, message, subject, attributes, _ = max(sent_notifications(endpoint, bundle, topic),
                                             key=lambda n: len(n[1]))
    publish = {"Action": "Publish", "TopicArn": topic, "Message": message, "MessageStructure": "json",
               "Subject": subject}
    for n, (name, value) in enumerate(sorted((attributes or {}).items()), 1):
        publish |= {f"MessageAttributes.entry.{n}.Name": name,
                    f"MessageAttributes.entry.{n}.Value.DataType": value["Type"],
                    f"MessageAttributes.entry.{n}.Value.StringValue": value["Value"]}
    host, port = endpoint.removeprefix("https://").rsplit(":", 1)
    # moto does not check signatures; it reads the region and service from the credential scope.
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/sns/aws4_request, "
                                "SignedHeaders=host, Signature=0"}

    def call(connection, params):
        connection.request("POST", "/", urllib.parse.urlencode(params), headers)
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            sys.exit(f"bench-cold: moto refused the floor's {params['Action']}: {body[:300]!r}")

    results = []
    for i in range(runs + 1):
        cpu0, t0 = time.process_time(), time.perf_counter()
        connection = http.client.HTTPSConnection(host, int(port), context=context)
        call(connection, {"Action": "GetTopicAttributes", "TopicArn": topic})
        cpu1, t1 = time.process_time(), time.perf_counter()
        call(connection, publish)
        cpu2, t2 = time.process_time(), time.perf_counter()
        connection.close()
        if i > 0:
            init, event = (t1 - t0) - (cpu1 - cpu0), (t2 - t1) - (cpu2 - cpu1)
            results.append({"init": init * 1e3, "event": event * 1e3, "total": (init + event) * 1e3})
    return results


def fresh_event(template):
    event = json.loads(json.dumps(template))
    event["id"] = str(uuid.uuid4())
    event["detail"]["eventID"] = str(uuid.uuid4())  # a new event each run, or the table dedups it
    return event


# --- statistics and the report ---

def p90(values):
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 9 // 10) - 1)]


def summary(runs, keys=("init", "event", "total", "cpu", "rss")):
    return {k: {"median": statistics.median(r[k] for r in runs), "p90": p90([r[k] for r in runs])}
            for k in keys}


def measure_floor(endpoint, bundle, topic, runs, python_runs):
    """moto alone (see moto_floor): prints its medians and, with the peer's runs, the bound they
    put on the ratio; returns what goes in the JSON."""
    floor = moto_floor(endpoint, bundle, topic, runs)
    alone = summary(floor, ("init", "event", "total"))
    entry = {"summary": alone, "runs": floor}
    line = (f"  moto's own time for the same requests (a warm client, its CPU subtracted), median: "
            f"init {alone['init']['median']:.1f} ms, event {alone['event']['median']:.1f} ms, "
            f"total {alone['total']['median']:.1f} ms")
    if python_runs:
        entry["bound"] = summary(python_runs, ("total",))["total"]["median"] / alone["total"]["median"]
        line += (f"; so no function making the same requests could be more than "
                 f"{entry['bound']:.1f}x faster than the peer here (medians)")
    print(line)
    return entry


def report(title, results, python_label):
    print(f"\n{title}")
    head = f"{'':28} {'init (start->ready)':>20} {'first event->alert':>20} {'total (start->alert)':>21} {'CPU used':>9} {'peak RSS':>9}"
    print(head)
    print(f"{'':28} {'median':>9} {'p90':>10} {'median':>9} {'p90':>10} {'median':>9} {'p90':>11} {'median':>9} {'median':>9}")

    def ms(v):
        return f"{v:8.1f}ms" if v < 10_000 else f"{v / 1000:8.2f} s"
    for label, runs in results.items():
        s = summary(runs)
        print(f"{label:28} {ms(s['init']['median'])} {ms(s['init']['p90']):>10} "
              f"{ms(s['event']['median'])} {ms(s['event']['p90']):>10} "
              f"{ms(s['total']['median'])} {ms(s['total']['p90']):>11} "
              f"{ms(s['cpu']['median'])} {s['rss']['median']:6.1f}MiB")
    if python_label in results:
        py = summary(results[python_label])
        for label, runs in results.items():
            if label == python_label or "table" in label:
                continue
            s = summary(runs)
            ratio = lambda k, q="median": py[k][q] / s[k][q]  # noqa: E731
            print(f"{'  python / ' + label:28} {ratio('init'):8.1f}x {ratio('init', 'p90'):9.1f}x "
                  f"{ratio('event'):8.1f}x {ratio('event', 'p90'):9.1f}x "
                  f"{ratio('total'):8.1f}x {ratio('total', 'p90'):10.1f}x {ratio('cpu'):8.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", 20)))
    parser.add_argument("--rust", action="append", default=[], metavar="LABEL=PATH",
                        help="a rootwatch binary to measure (default: the release build)")
    parser.add_argument("--no-python", action="store_true")
    parser.add_argument("--no-table", action="store_true", help="skip the runs with STATE_TABLE")
    parser.add_argument("--no-cpu-share", action="store_true")
    parser.add_argument("--cpu-max", default=DEFAULT_CPU_MAX, help='"QUOTA PERIOD" in µs')
    parser.add_argument("--json", type=Path, help="write the medians, p90s and every run's figures here")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    binaries = {}
    for item in args.rust or [f"rust=release"]:
        label, _, path = item.partition("=")
        binaries[label] = Path(path) if path != "release" else target_dir() / "release" / "rootwatch"
    for label, path in binaries.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"bench-cold: {path} ({label}) is not an executable; build it first "
                     "(cargo build --release --bin rootwatch)")

    # Under cargo's target directory; kept afterwards, with the function and moto logs.
    work = target_dir() / "bench-cold"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cert, key, bundle, system_roots = make_certificates(work)
    moto, endpoint, topic, client = start_moto(work, cert, key, bundle)
    share = None
    try:
        base_env = {
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": endpoint,
            "SSL_CERT_FILE": str(bundle), "AWS_CA_BUNDLE": str(bundle),
            "AWS_LAMBDA_FUNCTION_NAME": "rootwatch", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/rootwatch",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "ALERT_TOPIC_ARN": topic, "ACCOUNT_NAMES": "111122223333=prod-payments",
            "RUNBOOK_URL": "https://wiki.example.com/security/runbooks/root-user",
            "TOPIC_DISPLAY_NAME": DISPLAY_NAME,
        }
        configs = {}
        for label, path in binaries.items():
            configs[label] = ([str(path)], base_env)
        if not args.no_python:
            configs["python3 + boto3"] = ([sys.executable, str(PEER)], base_env)
        if not args.no_table:
            for label, path in binaries.items():
                configs[f"{label} + state table"] = ([str(path)], {**base_env, "STATE_TABLE": TABLE})
        template = json.loads(EVENT.read_text())

        settings = [("full CPU", None)]
        if not args.no_cpu_share:
            quota, period = (int(x) for x in args.cpu_max.split())
            share = CpuShare(quota, period)
            if share.path:
                settings.append((f"128 MB Lambda's CPU share ({share.kind}: "
                                 f"{quota / period:.1%} of one CPU, only the function process)", share))
            else:
                print(f"bench-cold: no CPU share on this machine ({share.problem}); "
                      "reporting full CPU only", file=sys.stderr)

        uname = os.uname()
        print(f"bench-cold: {args.runs} runs per configuration after one unmeasured, interleaved; "
              f"{os.cpu_count()} CPUs, {uname.sysname} {uname.release} {uname.machine}, "
              f"load {os.getloadavg()[0]:.2f}")
        print(f"bench-cold: SNS{'' if args.no_table else ' and DynamoDB'} = moto over TLS at {endpoint} "
              f"(RSA 2048 chain from a CA made for the run; trust: system roots "
              f"{'from ' + str(system_roots) if system_roots else 'not found'} + that CA, "
              "via SSL_CERT_FILE for Rust and AWS_CA_BUNDLE for boto3)")
        print(f"bench-cold: event {EVENT.relative_to(ROOT)} (a new event id each run); "
              f"python {sys.version.split()[0]}, boto3 {__import__('boto3').__version__}")
        everything = {}
        recorded = count_publishes(endpoint, bundle, topic)
        for title, cpu in settings:
            results = {label: [] for label in configs}
            before = cpu.throttled() if cpu else None
            for i in range(args.runs + 1):
                for label, (command, env) in configs.items():
                    figures = run_once(command, env, fresh_event(template), work, cpu)
                    if i > 0:
                        results[label].append(figures)
                print(f"\r  {title.split(' (')[0]}: {i}/{args.runs} runs", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)
            # Every run of every configuration must have published, by moto's own record, before
            # any figure is reported.
            published = count_publishes(endpoint, bundle, topic) - recorded
            recorded += published
            expected = len(configs) * (args.runs + 1)
            if published != expected:
                sys.exit(f"bench-cold: FAILED: moto recorded {published} publishes, {expected} expected: "
                         "a run returned 'alerted' without a publish SNS recorded")
            if cpu:
                throttled, periods = (a - b for a, b in zip(cpu.throttled(), before))
                title += f"; throttled in {throttled} of {periods} periods"
            report(title, results, "python3 + boto3")
            print(f"  (moto recorded {published} publishes: one per run, the unmeasured first included)")
            everything[title] = {label: {"summary": summary(runs), "runs": runs}
                                 for label, runs in results.items()}
            if cpu is None:
                everything["moto alone, full CPU"] = measure_floor(
                    endpoint, bundle, topic, args.runs, results.get("python3 + boto3"))
                recorded = count_publishes(endpoint, bundle, topic)
        print(f"\nbench-cold: load {os.getloadavg()[0]:.2f} at the end")
        print("\ninit: process start -> first `next` request; first event -> alert: the event handed "
              "out -> the response posted after SNS accepted the publish; total: start -> response.\n"
              "CPU used: user + system time of the process to the first alert (wait4); "
              "peak RSS: its high-water mark.")
        if args.json:
            args.json.write_text(json.dumps(everything, indent=1))
            print(f"bench-cold: medians, p90s and every run's figures in {args.json}")
    finally:
        if share:
            share.remove()
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait()


if __name__ == "__main__":
    main()
