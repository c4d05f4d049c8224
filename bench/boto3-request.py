#!/usr/bin/env python3
"""boto3-request.py — one Lightsail request exactly as boto3 builds and signs it, for bench/api-vs-nethttp.sh.

    boto3-request.py ENDPOINT call OPERATION JSON     send it; print the response body
    boto3-request.py ENDPOINT wrk  OPERATION JSON     print a wrk Lua script that replays it

The request comes from a real botocore client (the library under boto3 and the AWS CLI): its
"before-send" event hands over the final, signed request, which "wrk" mode prints instead of sending.
wrk cannot sign each request cheaply, so the benchmark replays one signed request: its X-Amz-Date
stays inside the server's ±15 minute window for the run, and the server still verifies the signature
of every copy in full (nothing about a replay lets it skip work). Key test/test (sailcdn --dev),
region us-east-1, no retries.
"""
import json
import sys

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config


class _Captured(Exception):
    pass


def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    endpoint, mode, operation, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    session = botocore.session.get_session()
    client = session.create_client(
        "lightsail", region_name="us-east-1", endpoint_url=endpoint,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )
    method = getattr(client, botocore.xform_name(operation))
    if mode == "call":
        print(json.dumps(method(**params), default=str))
        return
    captured = {}

    def capture(request, **_):
        captured["request"] = request
        # Answer locally so nothing is sent: the request is only printed.
        return AWSResponse(request.url, 200, {}, None)

    client.meta.events.register_first("before-send.lightsail", capture)
    try:
        method(**params)
    except Exception:  # the empty local answer does not parse; the request is what we wanted
        pass
    req = captured["request"]
    body = req.body.decode() if isinstance(req.body, bytes) else (req.body or "")
    lines = ['wrk.method = "POST"', "wrk.body = " + lua_string(body), "wrk.headers = {}"]
    for name, value in req.headers.items():
        if name.lower() in ("host", "content-length"):  # wrk writes both itself, with the same values
            continue
        value = value.decode() if isinstance(value, bytes) else value
        lines.append("wrk.headers[%s] = %s" % (lua_string(name), lua_string(value)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
