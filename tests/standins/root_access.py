"""A minimal local stand-in for IAM ListOrganizationsFeatures, STS AssumeRoot and the AssumeRoot
session's reads, following the IAM and STS API references. moto has none of the three: this
serves them and passes every other request to moto byte for byte.

Query protocol in (form-encoded POST), XML out, error codes as the botocore models name them:

- IAM `ListOrganizationsFeatures` ("IAM API Reference", ListOrganizationsFeatures): the features
  set by the test, or the error it set (`AccountNotManagementOrDelegatedAdministratorException`,
  `ServiceAccessNotEnabledException`, `OrganizationNotInAllFeaturesModeException`,
  `OrganizationNotFoundException`).
- STS `AssumeRoot` ("AWS STS API Reference", AssumeRoot): `TargetPrincipal` is a 12-digit id or
  `arn:<partition>:iam::<id>:root`; `TaskPolicyArn.arn` one of the five root-task policies;
  `DurationSeconds` at most 900; `AccessDenied` unless RootSessions is on and the member is in the
  organization. It issues credentials of its own (`ASIA…`), each bound to the member.
- A request signed with such credentials and without `UserName`: `GetLoginProfile` (404
  `NoSuchEntity` without a password), `ListAccessKeys`, `ListMFADevices`,
  `ListSigningCertificates` from the member's root state; anything else `AccessDenied`, as the
  task policy would.

Control: `POST /stand-in/state` (JSON: `features`, `error`, `organization`, `members`:
{id: {password, access_keys, mfa_devices, certificates}}), `GET /stand-in/calls` (JSON list of
{action, target, task_policy, key}). Prints `listening on <port>` once ready.

Usage: python root_access.py --moto http://127.0.0.1:PORT
"""
import argparse
import http.client
import json
import re
import secrets
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROOT_TASKS = {
    f"arn:aws:iam::aws:policy/root-task/{name}"
    for name in [
        "IAMAuditRootUserCredentials",
        "IAMCreateRootUserPassword",
        "IAMDeleteRootUserCredentials",
        "S3UnlockBucketPolicy",
        "SQSUnlockQueuePolicy",
    ]
}
FEATURE_ERRORS = {
    "AccountNotManagementOrDelegatedAdministratorException",
    "ServiceAccessNotEnabledException",
    "OrganizationNotInAllFeaturesModeException",
    "OrganizationNotFoundException",
}
KEY = re.compile(r"Credential=([A-Z0-9]+)/")

LOCK = threading.Lock()
STATE = {"features": [], "error": None, "organization": "o-a1b2c3d4e5", "members": {}}
ISSUED = {}  # access key id -> member account id
CALLS = []


def xml_escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def members_xml(items):
    return "".join(f"<member>{item}</member>" for item in items)


def response(action, namespace, result):
    return (f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            f"</{action}Response>")


def error(namespace, code, message, status):
    body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return status, body


def target_account(principal):
    match = re.fullmatch(r"(\d{12})|arn:aws[a-z-]*:iam::(\d{12}):root", principal or "")
    return match and (match.group(1) or match.group(2))


def assume_root(form):
    account = target_account(form.get("TargetPrincipal"))
    task = form.get("TaskPolicyArn.arn")
    duration = int(form.get("DurationSeconds", "900") or "900")
    CALLS.append({"action": "AssumeRoot", "target": form.get("TargetPrincipal"), "task_policy": task})
    if not account:
        return error(STS_NS, "ValidationError", "TargetPrincipal is not an account id or root ARN", 400)
    if task not in ROOT_TASKS:
        return error(STS_NS, "ValidationError", "TaskPolicyArn is not a root-task policy", 400)
    if not 0 <= duration <= 900:
        return error(STS_NS, "ValidationError", "DurationSeconds must be at most 900", 400)
    if "RootSessions" not in STATE["features"] or account not in STATE["members"]:
        return error(STS_NS, "AccessDenied", "root sessions are not enabled for this account", 403)
    key = "ASIA" + secrets.token_hex(8).upper()
    ISSUED[key] = account
    credentials = (f"<Credentials><AccessKeyId>{key}</AccessKeyId>"
                   f"<SecretAccessKey>{secrets.token_hex(20)}</SecretAccessKey>"
                   f"<SessionToken>{secrets.token_hex(32)}</SessionToken>"
                   f"<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>")
    return 200, response("AssumeRoot", STS_NS, credentials)


def list_features(form):
    CALLS.append({"action": "ListOrganizationsFeatures"})
    if STATE["error"]:
        return error(IAM_NS, STATE["error"], "refused by the stand-in's state", 400)
    result = (f"<OrganizationId>{STATE['organization']}</OrganizationId>"
              f"<EnabledFeatures>{members_xml(STATE['features'])}</EnabledFeatures>")
    return 200, response("ListOrganizationsFeatures", IAM_NS, result)


def root_read(action, account):
    CALLS.append({"action": action, "target": account})
    root = STATE["members"].get(account, {})
    if action == "GetLoginProfile":
        if not root.get("password"):
            return error(IAM_NS, "NoSuchEntity", "Login Profile for root user cannot be found.", 404)
        return 200, response(action, IAM_NS, "<LoginProfile><UserName>root</UserName>"
                             "<CreateDate>2026-01-01T00:00:00Z</CreateDate></LoginProfile>")
    if action == "ListAccessKeys":
        keys = "".join(f"<member><UserName>root</UserName><AccessKeyId>{k}</AccessKeyId>"
                       f"<Status>Active</Status><CreateDate>2026-01-01T00:00:00Z</CreateDate></member>"
                       for k in root.get("access_keys", []))
        return 200, response(action, IAM_NS, f"<AccessKeyMetadata>{keys}</AccessKeyMetadata>"
                             "<IsTruncated>false</IsTruncated>")
    if action == "ListMFADevices":
        devices = "".join(f"<member><UserName>root</UserName><SerialNumber>{d}</SerialNumber>"
                          f"<EnableDate>2026-01-01T00:00:00Z</EnableDate></member>"
                          for d in root.get("mfa_devices", []))
        return 200, response(action, IAM_NS, f"<MFADevices>{devices}</MFADevices><IsTruncated>false</IsTruncated>")
    if action == "ListSigningCertificates":
        certs = "".join(f"<member><UserName>root</UserName><CertificateId>{c}</CertificateId>"
                        f"<CertificateBody>-----BEGIN CERTIFICATE-----</CertificateBody><Status>Active</Status>"
                        f"</member>" for c in root.get("certificates", []))
        return 200, response(action, IAM_NS, f"<Certificates>{certs}</Certificates><IsTruncated>false</IsTruncated>")
    return error(IAM_NS, "AccessDenied", f"the task policy does not allow {action}", 403)


class Handler(BaseHTTPRequestHandler):
    moto = None

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/stand-in/calls":
            with LOCK:
                return self.send(200, json.dumps(CALLS), "application/json")
        self.proxy(b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/stand-in/state":
            with LOCK:
                STATE.update(json.loads(body or b"{}"))
            return self.send(200, "{}", "application/json")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
        action = form.get("Action")
        key = KEY.search(self.headers.get("Authorization", ""))
        key = key and key.group(1)
        with LOCK:
            if action == "AssumeRoot":
                return self.send(*assume_root(form))
            if action == "ListOrganizationsFeatures":
                return self.send(*list_features(form))
            if key in ISSUED:
                if "UserName" in form:
                    return self.send(*error(IAM_NS, "AccessDenied", "a root session reads without UserName", 403))
                return self.send(*root_read(action, ISSUED[key]))
        self.proxy(body)

    def proxy(self, body):
        url = urllib.parse.urlsplit(self.moto)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = url.netloc
        connection.request(self.command, self.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--moto", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    Handler.moto = args.moto
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
