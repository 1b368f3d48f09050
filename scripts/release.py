#!/usr/bin/env python3
"""rootwatch's release artifacts, for installing without Rust (docs/install.md).

  release.py package --bucket BUCKET [--prefix PREFIX] [--out dist]
      Uploads what `sam build` left in .aws-sam/build with `sam package` (the function's zip, and
      the licence and readme for the Serverless Application Repository), then writes to --out:
        rootwatch-<version>.yaml        the packaged template (aws cloudformation deploy, sam deploy,
                                        sam publish)
        rootwatch-<version>-arm64.zip   the function's code, read back from the bucket: the very
                                        object the packaged template names
        forwarder.yaml                  the forwarder (organization mode, other regions): plain
                                        CloudFormation, nothing to package
        SHA256SUMS                      the three files' SHA-256, in sha256sum's format
      and prints the packaged template's path as its last line. A failure (no bucket, no
      credentials) ends with one line saying what failed, after sam's own message. AWS settings (AWS_PROFILE,
      AWS_REGION, AWS_ENDPOINT_URL, ...) are honoured by sam and boto3 alike.

  release.py notes [--version VERSION]
      The CHANGELOG.md section of a version (default: Cargo.toml's), for the release page.

  release.py check-tag TAG
      Refuses a tag other than v<Cargo.toml's version>, and a version CHANGELOG.md has no section for."""
import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
BUILT = ROOT / ".aws-sam" / "build" / "template.yaml"


def version():
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]


def changelog_section(wanted):
    """The lines under `## [wanted]` in CHANGELOG.md, up to the next version's heading (or the link
    definitions at the end)."""
    lines, inside = [], False
    for line in (ROOT / "CHANGELOG.md").read_text().splitlines():
        heading = re.match(r"^## \[([^\]]+)\]", line)
        if inside and re.match(r"^\[[^\]]+\]: ", line):
            break
        if heading:
            if inside:
                break
            inside = heading.group(1) == wanted
            continue
        if inside:
            lines.append(line)
    if not inside and not lines:
        return None
    return "\n".join(lines).strip() + "\n"


def s3_object(uri):
    parsed = urlparse(uri)
    if parsed.scheme != "s3":
        sys.exit(f"release.py: {uri!r} is not an s3:// URI; was the template packaged?")
    return parsed.netloc, parsed.path.lstrip("/")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package(args):
    # Here, not at the top: notes and check-tag run where the tools are not installed (release.yml).
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    from cfnlint.decode import cfn_yaml

    if not BUILT.exists():
        sys.exit(f"release.py: {BUILT} is missing: run `sam build --beta-features` (make package does)")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    name = f"rootwatch-{version()}"
    packaged = out / f"{name}.yaml"
    command = ["sam", "package", "--template-file", str(BUILT), "--s3-bucket", args.bucket,
               "--output-template-file", str(packaged)]
    if args.prefix:
        command += ["--s3-prefix", args.prefix]
    # sam prints its own progress and, on a failure, its own message; this names the step.
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        sys.exit(f"release.py: sam package to s3://{args.bucket} failed (see sam's message above): "
                 "does the bucket exist, and may these credentials write to it?")

    template = cfn_yaml.load(str(packaged))
    functions = [r for r in template["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"]
    if len(functions) != 1:
        sys.exit(f"release.py: expected one function in {packaged}, found {len(functions)}")
    bucket, key = s3_object(functions[0]["Properties"]["CodeUri"])
    code = out / f"{name}-arm64.zip"
    try:
        code.write_bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except (BotoCoreError, ClientError) as e:
        sys.exit(f"release.py: reading back s3://{bucket}/{key} failed: {e}")
    forwarder = out / "forwarder.yaml"
    shutil.copyfile(ROOT / "forwarder.yaml", forwarder)

    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{sha256(path)}  {path.name}\n" for path in (code, packaged, forwarder)))
    print(f"code: s3://{bucket}/{key} ({code.name}, sha256 {sha256(code)})")
    print(f"checksums: {sums}")
    print(packaged)


def notes(args):
    wanted = args.version or version()
    section = changelog_section(wanted)
    if section is None:
        sys.exit(f"release.py: CHANGELOG.md has no section for {wanted}")
    sys.stdout.write(section)


def check_tag(args):
    expected = f"v{version()}"
    if args.tag != expected:
        sys.exit(f"release.py: tag {args.tag} does not match Cargo.toml's version (expected {expected})")
    if changelog_section(version()) is None:
        sys.exit(f"release.py: CHANGELOG.md has no section for {version()}")
    print(f"{args.tag}: Cargo.toml and CHANGELOG.md agree")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("package")
    p.add_argument("--bucket", required=True, help="the S3 bucket sam package uploads to")
    p.add_argument("--prefix", default="", help="key prefix in the bucket")
    p.add_argument("--out", default=str(ROOT / "dist"), help="where the packaged template, zip and checksums go")
    p = sub.add_parser("notes")
    p.add_argument("--version", help="default: Cargo.toml's version")
    p = sub.add_parser("check-tag")
    p.add_argument("tag")
    args = parser.parse_args(argv)
    {"package": package, "notes": notes, "check-tag": check_tag}[args.command](args)


if __name__ == "__main__":
    main()
