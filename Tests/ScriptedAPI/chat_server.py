"""A scripted OpenAI-compatible Chat Completions server for tests.

Serves POST /v1/chat/completions (and /chat/completions) on 127.0.0.1 and plays a scripted
session turn by turn: the turn is the number of assistant messages in the request's
conversation, so a retried request gets the same answer. Each turn has an optional "text" (the
assistant's content) and "commands", a list of shell commands, each answered as a call of the
`bash` function tool (`{"command": ...}`), which is how mini-swe-agent's tool-calling model
reads actions. In text and commands, {{result}} is replaced by the text of the newest
observation in the request (a `tool` message, or a `user` message after an assistant one) and
{{result:N}} by that of the N-th (from 0), so later turns use what earlier commands printed.
An observation that is JSON with an "output" key (mini-swe-agent's default template) or that
holds <output>...</output> (its plain template) is reduced to that output, stripped.

Each turn's "usage" ({"prompt_tokens": ..., "completion_tokens": ...}, plus anything else to
pass through, e.g. "prompt_tokens_details") is returned as the response's usage, with
total_tokens added. With "stream": true the answer is sent as chat.completion.chunk events
(the usage in a last chunk when stream_options.include_usage is set) and `data: [DONE]`.
After the last turn the server answers "final" (default: a turn that runs
`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`, mini-swe-agent's way of finishing) with zero
usage. Responses name the script's "model" (default: the request's), for example a model whose
price litellm knows ("gpt-4.1"): litellm prices responses by the model they name.

    python chat_server.py SCRIPT.json PORT_FILE [REQUEST_LOG]

Script: {"turns": [{"text": "...", "commands": ["ls"], "usage": {"prompt_tokens": 900,
"completion_tokens": 60}}, ...], "final": {...}, "model": "gpt-4.1"}. REQUEST_LOG gets
one JSON line per request (turn, stream, usage, observations, the first user message).
"""

import json
import threading
import re
import time
from scripted import JSONHandler, RequestLog, fill, serve

SUBMIT = {"text": "Done.", "commands": ["echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"]}


def text_of(content):
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def observation(content):
    """What a command printed, from an observation message's content."""
    text = text_of(content)
    try:
        value = json.loads(text)
        if isinstance(value, dict) and "output" in value:
            return str(value["output"]).strip()
    except ValueError:
        pass
    match = re.search(r"<output>\n?(.*?)</output>", text, re.S)
    return (match.group(1) if match else text).strip()


def observations(messages):
    """The observations of the conversation, in order: tool messages, and user messages that
    follow an assistant message (text-based agents)."""
    results = []
    seen_assistant = False
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            seen_assistant = True
        elif role == "tool" or (role == "user" and seen_assistant):
            results.append(observation(message.get("content")))
    return results


class Session:
    def __init__(self, script, log_path):
        self.script = script
        self.requests = RequestLog(log_path)
        self.lock = threading.Lock()
        self.count = 0

    def log(self, entry):
        self.requests.log(entry)

    def answer(self, request):
        """The assistant message, usage and finish reason for one request, and its turn."""
        messages = request.get("messages", [])
        turn = sum(1 for message in messages if message.get("role") == "assistant")
        turns = self.script["turns"]
        if turn < len(turns):
            step = turns[turn]
        else:
            step = dict(self.script.get("final", SUBMIT), usage={})
        step = fill(step, [(None, text) for text in observations(messages)], {})
        calls = [{"id": "call_%02d_%02d" % (turn, index), "type": "function",
                  "function": {"name": "bash", "arguments": json.dumps({"command": command})}}
                 for index, command in enumerate(step.get("commands", []))]
        message = {"role": "assistant", "content": step.get("text")}
        if calls:
            message["tool_calls"] = calls
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        usage.update(step.get("usage", {}))
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return message, usage, "tool_calls" if calls else "stop", turn


def make_handler(session):
    class Handler(JSONHandler):
        def do_GET(self):
            if self.path.split("?")[0].endswith("/models"):
                return self.send_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            self.send_json(200, {})

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            request = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            if not path.endswith("/chat/completions"):
                return self.send_json(404, {"error": {"message": "no such path: " + path, "type": "invalid_request_error"}})
            message, usage, finish, turn = session.answer(request)
            with session.lock:
                session.count += 1
                completion_id = "chatcmpl-scripted-%03d" % session.count
            stream = bool(request.get("stream"))
            messages = request.get("messages", [])
            task = next((text_of(m.get("content")) for m in messages if m.get("role") == "user"), "")
            session.log({"path": path, "model": request.get("model"), "turn": turn, "stream": stream, "usage": usage,
                         "observations": observations(messages), "task": task})
            model = session.script.get("model") or request.get("model", "scripted")
            base = {"id": completion_id, "created": int(time.time()), "model": model}
            if not stream:
                return self.send_json(200, dict(base, object="chat.completion", usage=usage, choices=[
                    {"index": 0, "message": message, "finish_reason": finish}]))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            delta = {"role": "assistant", "content": message["content"]}
            if "tool_calls" in message:
                delta["tool_calls"] = [dict(call, index=index) for index, call in enumerate(message["tool_calls"])]
            chunk = dict(base, object="chat.completion.chunk")
            self.event(dict(chunk, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
            self.event(dict(chunk, choices=[{"index": 0, "delta": {}, "finish_reason": finish}]))
            if (request.get("stream_options") or {}).get("include_usage"):
                self.event(dict(chunk, choices=[], usage=usage))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def event(self, data):
            self.wfile.write(("data: %s\n\n" % json.dumps(data)).encode())
            self.wfile.flush()

    return Handler


def main():
    serve(lambda script, log_path: make_handler(Session(script, log_path)))


if __name__ == "__main__":
    main()
