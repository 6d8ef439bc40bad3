"""What the scripted model API servers share: filling a turn's placeholders with what earlier
tools returned, the request log, and serving on 127.0.0.1 with the port written to a file.

A placeholder {{result}} is the newest tool result of the request, {{result:N}} the N-th (from
0), {{result:LABEL}} the result of the call labelled LABEL ("as": LABEL in the script, matched
by its tool-call id), and any of them with |json:PATH (dotted, e.g. interval.low or metrics.0.value)
the value at PATH of a JSON result; a string that is only such a placeholder becomes the value
itself (a number stays a number).
"""

import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLACEHOLDER = re.compile(r"\{\{result(?::([A-Za-z0-9_.-]+))?(?:\|json:([^}]*))?\}\}")


def json_path(text, path):
    """The value at the dotted path of the JSON text, or None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    for key in path.split(".") if path else []:
        if isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return None
    return value


def fill(value, results, labelled):
    """The script's value with its placeholders replaced (see the module's doc)."""
    def lookup(selector):
        if not results:
            return None
        if selector is None:
            return results[-1][1]
        if selector.isdigit():
            return results[int(selector)][1] if int(selector) < len(results) else results[-1][1]
        wanted = labelled.get(selector)
        return next((text for use, text in reversed(results) if use == wanted), None)

    def resolve(match):
        text = lookup(match.group(1))
        if match.group(2) is None or text is None:
            return text
        return json_path(text, match.group(2))

    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(2) is not None:
            return resolve(whole)

        def one(match):
            found = resolve(match)
            if found is None:
                return ""
            return found if isinstance(found, str) else json.dumps(found)
        return PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [fill(item, results, labelled) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, results, labelled) for key, item in value.items()}
    return value


class JSONHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, no access log on stderr, and JSON replies."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class RequestLog:
    """One JSON line per request, appended under a lock (handlers run on threads)."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def log(self, entry):
        if self.path:
            with self.lock, open(self.path, "a") as log:
                log.write(json.dumps(entry) + "\n")


def serve(make_handler):
    """Runs `python SERVER.py SCRIPT.json PORT_FILE [REQUEST_LOG]`: make_handler(script, log_path)
    gives the request handler class; the port is written to PORT_FILE once listening."""
    script_path, port_file = sys.argv[1], sys.argv[2]
    log_path = sys.argv[3] if len(sys.argv) > 3 else None
    with open(script_path) as handle:
        script = json.load(handle)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script, log_path))
    with open(port_file + ".tmp", "w") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()
