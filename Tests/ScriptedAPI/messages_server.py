"""A scripted Anthropic Messages API server for tests.

Serves POST /v1/messages on 127.0.0.1 and plays a scripted session turn by turn: the turn is
the number of assistant messages in the request's conversation, so a retried request gets the
same answer. Each turn is a list of content blocks ({"text": ...} or {"tool": NAME, "input":
{...}}, optionally with "as": LABEL naming that call) and its usage. Streams server-sent events
(message_start, content_block_start/delta/stop, message_delta with usage, message_stop) or,
without "stream": true, returns the message whole. Requests that carry no tools (the CLI's own
side calls) get a short text with zero usage, so the session's tokens are exactly the script's.

Later turns use what earlier tools returned. In text and tool input, placeholders are replaced
by tool_result blocks of the request's conversation:

    {{result}}            the newest tool result's text
    {{result:N}}          the N-th tool result (from 0)
    {{result:LABEL}}      the result of the call labelled "as": LABEL (matched by its tool_use id,
                          so it is that call's own result whatever ran in between)
    {{...|json:PATH}}     any of these parsed as JSON and the dotted PATH taken from it
                          (`id`, `interval.low`, `metrics.0.value`): strings as they are, other
                          values as JSON text

A string that is exactly one `|json:` placeholder becomes the JSON value itself, so
`"run": "{{result:run|json:id}}"` sends the number 3, not the string "3". A result that is
missing, or not JSON, or lacks the path, leaves the placeholder's text as "" (or null for a
whole-string value), which the test then sees in the tool call it checks.

    python messages_server.py SCRIPT.json PORT_FILE [REQUEST_LOG]

Script: {"turns": [{"content": [...], "usage": {"input_tokens": 1200, "output_tokens": 80,
"cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}, ...]}; after the last turn
the server answers with "final_text" (default "Done.") and zero usage. Each request is logged
as one JSON line: its turn, the tools offered (`tools`, a count, and `tool_names`), the usage
answered, `tool_results` (texts in order) and `labelled` (label → result text of the labelled
calls whose results the request carries).
"""

import json
import threading
from scripted import JSONHandler, RequestLog, fill, serve

ZERO = {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def tool_results(messages):
    """(tool_use_id, text) of every tool_result block in the conversation, in order."""
    results = []
    for message in messages:
        content = message.get("content")
        if message.get("role") != "user" or not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, list):
                    inner = "\n".join(part.get("text", "") for part in inner if isinstance(part, dict))
                results.append((block.get("tool_use_id"), (inner or "").strip()))
    return results


def tool_use_id(turn, index):
    return "toolu_%02d_%02d" % (turn, index)


def labels(script):
    """label -> tool_use id of the scripted call that carries it."""
    found = {}
    for turn, step in enumerate(script["turns"]):
        for index, block in enumerate(step["content"]):
            if "as" in block:
                found[block["as"]] = tool_use_id(turn, index)
    return found


class Session:
    def __init__(self, script, log_path):
        self.script = script
        self.requests = RequestLog(log_path)
        self.lock = threading.Lock()
        self.count = 0
        self.labelled = labels(script)

    def log(self, entry):
        self.requests.log(entry)

    def answer(self, request):
        """The content blocks, usage and stop reason for one request."""
        messages = request.get("messages", [])
        if not request.get("tools"):
            return [{"type": "text", "text": self.script.get("side_text", "Scripted session.")}], dict(ZERO), "end_turn", None
        turn = sum(1 for message in messages if message.get("role") == "assistant")
        turns = self.script["turns"]
        if turn >= len(turns):
            return [{"type": "text", "text": self.script.get("final_text", "Done.")}], dict(ZERO), "end_turn", turn
        step = fill(turns[turn], tool_results(messages), self.labelled)
        blocks = []
        for index, block in enumerate(step["content"]):
            if "tool" in block:
                blocks.append({"type": "tool_use", "id": tool_use_id(turn, index), "name": block["tool"],
                               "input": block["input"]})
            else:
                blocks.append({"type": "text", "text": block["text"]})
        usage = dict(ZERO)
        usage.update(step.get("usage", {}))
        stop = "tool_use" if any(block["type"] == "tool_use" for block in blocks) else "end_turn"
        return blocks, usage, stop, turn


def make_handler(session):
    class Handler(JSONHandler):
        def do_GET(self):
            self.send_json(200, {})

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            request = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            if path.endswith("/count_tokens"):
                return self.send_json(200, {"input_tokens": 0})
            if not path.endswith("/v1/messages"):
                return self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
            blocks, usage, stop, turn = session.answer(request)
            with session.lock:
                session.count += 1
                message_id = "msg_scripted_%03d" % session.count
            results = tool_results(request.get("messages", []))
            ids = {use: label for label, use in session.labelled.items()}
            session.log({"path": path, "model": request.get("model"), "turn": turn, "stream": bool(request.get("stream")),
                         "tools": len(request.get("tools") or []),
                         "tool_names": [tool.get("name") for tool in request.get("tools") or []], "usage": usage,
                         "tool_results": [text for _, text in results],
                         "labelled": {ids[use]: text for use, text in results if use in ids}})
            model = request.get("model", "claude-sonnet-4-5")
            message = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": blocks,
                       "stop_reason": stop, "stop_sequence": None, "usage": usage}
            if not request.get("stream"):
                return self.send_json(200, message)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=min(1, usage["output_tokens"])))
            self.event("message_start", {"type": "message_start", "message": start})
            for index, block in enumerate(blocks):
                if block["type"] == "text":
                    self.event("content_block_start", {"type": "content_block_start", "index": index,
                                                       "content_block": {"type": "text", "text": ""}})
                    self.event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "text_delta", "text": block["text"]}})
                else:
                    self.event("content_block_start", {"type": "content_block_start", "index": index,
                                                       "content_block": {"type": "tool_use", "id": block["id"],
                                                                         "name": block["name"], "input": {}}})
                    self.event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                       "delta": {"type": "input_json_delta",
                                                                 "partial_json": json.dumps(block["input"])}})
                self.event("content_block_stop", {"type": "content_block_stop", "index": index})
            self.event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": usage})
            self.event("message_stop", {"type": "message_stop"})

        def event(self, name, data):
            self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
            self.wfile.flush()

    return Handler


def main():
    serve(lambda script, log_path: make_handler(Session(script, log_path)))


if __name__ == "__main__":
    main()
