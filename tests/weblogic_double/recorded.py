"""The network of a WeblogicClient replaced by recorded answers, for unit tests.

RecordedClient is the real client (URL building, headers, JSON decoding, error sentences)
with `_open` answering from a dict instead of a socket:

    answers = {"GET domainRuntime/serverLifeCycleRuntimes": {"items": [...]},
               "GET domainConfig/servers": Recorded(403, {"detail": "..."}),
               "GET domainRuntime/serverRuntimes/ms1/JVMRuntime": URLError(socket.timeout()),
               "getCurrentState": {"app": {"ms1": "STATE_ACTIVE"}}}

Keys are 'METHOD path below /management/weblogic/latest', URL-decoded, without the query.
A missing key answers 404 as WebLogic does for an unknown resource.
"""

from __future__ import annotations

import io
import json
from email.message import Message
from urllib.error import HTTPError
from urllib.parse import unquote, urlsplit

from ansible_collections.gxtax.ops.plugins.module_utils.weblogic_rest import BASE_PATH, WeblogicClient


class Recorded:
    """An answer with a status other than 200, or a raw (non-JSON) body."""

    def __init__(self, status: int, body=None, raw: bytes | None = None, headers=None):
        self.status = status
        self.raw = raw if raw is not None else (b"" if body is None else json.dumps(body).encode("utf-8"))
        self.headers = headers or {}


class _Answer:
    def __init__(self, status, raw, headers):
        self.status = status
        self._body = io.BytesIO(raw)
        self.headers = Message()
        for name, value in headers.items():
            self.headers[name] = value

    def read(self, size=-1):
        return self._body.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class RecordedClient(WeblogicClient):
    def __init__(self, answers, url="https://wls-admin.example:7002", user="monitor",
                 password="Recorded-pw-2e9b", **kwargs):
        super().__init__(url, user, password, **kwargs)
        self.answers = answers
        self.sent = []  # (method, path, query, headers, body) of every request

    def _open(self, req):
        split = urlsplit(req.full_url)
        path = unquote(split.path)
        relative = path[len(BASE_PATH) + 1:] if path.startswith(BASE_PATH + "/") else path
        body = req.data if isinstance(req.data, bytes) else None
        self.sent.append((req.get_method(), relative, split.query, dict(req.header_items()), body))
        answer = self._lookup(req.get_method(), relative, body)
        if isinstance(answer, BaseException):
            raise answer
        if not isinstance(answer, Recorded):
            answer = Recorded(200, answer)
        if answer.status >= 300:  # urllib raises for what no handler took (redirects are refused)
            headers = Message()
            for name, value in answer.headers.items():
                headers[name] = value
            raise HTTPError(req.full_url, answer.status, "error", headers, io.BytesIO(answer.raw))
        return _Answer(answer.status, answer.raw, answer.headers)

    def _lookup(self, method, relative, body):
        key = "%s %s" % (method, relative)
        if key in self.answers:
            return self.answers[key]
        if method == "POST" and relative.endswith("appRuntimeStateRuntime/getCurrentState"):
            args = json.loads(body.decode("utf-8"))
            found = (self.answers.get("getCurrentState") or {}).get(args["appid"], {}).get(args["target"])
            if found is None or isinstance(found, (Recorded, BaseException)):
                return found if found is not None else {"return": None}
            return {"return": found}
        return Recorded(404, {"status": 404, "title": "Not Found", "detail": "Not Found"})
