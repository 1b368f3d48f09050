"""A minimal local stand-in for the AWS Serverless Application Repository API, which moto does not
serve: CreateApplication only, as its API reference describes it (POST /applications, a JSON body
with camelCase members, 201 and the application on success). It records each request's body, so a
test can run the real `sam publish` against it and read what would have been published.

Not a model of SAR: it keeps nothing and validates nothing beyond the required members
(author, description, name) that the API reference marks as required."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGION = "us-east-1"
ACCOUNT = "123456789012"
REQUIRED = ("author", "description", "name")


class LocalSar:
    def __init__(self):
        self.requests = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path != "/applications":
                    return self.reply(404, {"errorCode": "NotFoundException", "message": f"no route {self.path}"})
                stand_in.requests.append(body)
                missing = [m for m in REQUIRED if not body.get(m)]
                if missing:
                    return self.reply(400, {"errorCode": "BadRequestException",
                                            "message": f"missing required members: {', '.join(missing)}"})
                application = {
                    "applicationId": f"arn:aws:serverlessrepo:{REGION}:{ACCOUNT}:applications/{body['name']}",
                    **{k: v for k, v in body.items() if k != "templateBody"},
                }
                if body.get("semanticVersion"):
                    application["version"] = {"semanticVersion": body["semanticVersion"]}
                self.reply(201, application)

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

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
