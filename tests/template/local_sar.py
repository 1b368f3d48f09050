"""A minimal local stand-in for the AWS Serverless Application Repository API, which moto does not
serve. It follows the API reference (SAR Developer Guide, "Resources": Applications,
Applications applicationId, Applications applicationId Versions semanticVersion) for the calls
`sam publish` makes, with their status codes and `{"message", "errorCode"}` error bodies:

  CreateApplication         POST  /applications                          201, or 409 ConflictException
                                                                         when the name is taken
  GetApplication            GET   /applications/{id}?semanticVersion=v   200, or 404 NotFoundException
  UpdateApplication         PATCH /applications/{id}                     200, or 404
  CreateApplicationVersion  PUT   /applications/{id}/versions/{v}        201, or 409 ConflictException
                                                                         when the version exists

The 409 of CreateApplication names the application's ARN in its message, as AWS's does
("Application with id arn:... already exists", quoted in aws/aws-sam-cli#6566): `sam publish`
reads the id from there. It keeps the applications it was given (name, metadata, versions) and
records each call, so a test can run the real `sam publish` against it and read what was sent.

Not a model of SAR: it checks only the members the API reference marks as required, and none of
the template."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

REGION = "us-east-1"
ACCOUNT = "123456789012"
REQUIRED = ("author", "description", "name")
# UpdateApplication's request members (API reference, UpdateApplicationInput).
UPDATABLE = ("author", "description", "homePageUrl", "labels", "readmeBody", "readmeUrl")


class LocalSar:
    def __init__(self):
        # (operation, path parameters, body) of every call, in order.
        self.requests = []
        # Application ARN -> {"application": the members given, "versions": {semantic version: body}}.
        self.applications = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def body(self):
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

            def route(self):
                """The path's segments, each percent-decoded (botocore encodes an ARN's ':' and '/')."""
                url = urlsplit(self.path)
                return [unquote(part) for part in url.path.split("/")[1:]], parse_qs(url.query)

            def do_POST(self):
                parts, _ = self.route()
                if parts != ["applications"]:
                    return self.not_found(f"no route {self.path}")
                body = self.body()
                stand_in.requests.append(("CreateApplication", {}, body))
                missing = [m for m in REQUIRED if not body.get(m)]
                if missing:
                    return self.error(400, "BadRequestException", f"missing required members: {', '.join(missing)}")
                arn = f"arn:aws:serverlessrepo:{REGION}:{ACCOUNT}:applications/{body['name']}"
                if arn in stand_in.applications:
                    return self.error(409, "ConflictException", f"Application with id {arn} already exists")
                application = {k: v for k, v in body.items() if k not in ("templateBody", "semanticVersion")}
                stand_in.applications[arn] = {"application": application, "versions": {}}
                if body.get("semanticVersion"):
                    stand_in.applications[arn]["versions"][body["semanticVersion"]] = body
                self.reply(201, self.described(arn, body.get("semanticVersion")))

            def do_GET(self):
                parts, query = self.route()
                if len(parts) != 2 or parts[0] != "applications":
                    return self.not_found(f"no route {self.path}")
                arn, version = parts[1], query.get("semanticVersion", [None])[0]
                stand_in.requests.append(("GetApplication", {"applicationId": arn, "semanticVersion": version}, None))
                known = stand_in.applications.get(arn)
                if known is None or (version is not None and version not in known["versions"]):
                    return self.not_found(f"Application {arn} with version {version} not found")
                self.reply(200, self.described(arn, version))

            def do_PATCH(self):
                parts, _ = self.route()
                if len(parts) != 2 or parts[0] != "applications":
                    return self.not_found(f"no route {self.path}")
                arn, body = parts[1], self.body()
                stand_in.requests.append(("UpdateApplication", {"applicationId": arn}, body))
                if arn not in stand_in.applications:
                    return self.not_found(f"Application {arn} not found")
                stand_in.applications[arn]["application"].update({k: v for k, v in body.items() if k in UPDATABLE})
                self.reply(200, self.described(arn, None))

            def do_PUT(self):
                parts, _ = self.route()
                if len(parts) != 4 or parts[0] != "applications" or parts[2] != "versions":
                    return self.not_found(f"no route {self.path}")
                arn, version, body = parts[1], parts[3], self.body()
                stand_in.requests.append(("CreateApplicationVersion", {"applicationId": arn, "semanticVersion": version}, body))
                known = stand_in.applications.get(arn)
                if known is None:
                    return self.not_found(f"Application {arn} not found")
                if version in known["versions"]:
                    return self.error(409, "ConflictException",
                                      f"Cannot publish version {version} for application {arn} because it already exists")
                known["versions"][version] = body
                self.reply(201, {"applicationId": arn, "semanticVersion": version})

            def described(self, arn, version):
                application = {"applicationId": arn, **stand_in.applications[arn]["application"]}
                if version:
                    application["version"] = {"applicationId": arn, "semanticVersion": version}
                return application

            def not_found(self, message):
                self.error(404, "NotFoundException", message)

            def error(self, status, code, message):
                self.reply(status, {"errorCode": code, "message": message})

            def reply(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status >= 400:
                    self.send_header("x-amzn-ErrorType", payload["errorCode"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def operations(self):
        return [operation for operation, _, _ in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
