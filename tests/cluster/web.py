"""A small HTTP client for the cluster test: one connection per request, from a chosen
source address (so nginx sees several clients on one machine), cookies kept by hand."""

import http.client
import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.conftest import CSRF_FIELD


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """A client with its own source address and cookie jar, like one person's browser.

    The jar ignores cookie domains on purpose: the tests hand a cookie set by one host to
    the other, as a load balancer without sticky sessions does.
    """

    #: The address to send from (any 127.x.y.z reaches nginx on 127.0.0.1); None: the
    #: system's choice, which is the only one that reaches the hosts' namespaces.
    source: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 60,
    ) -> Reply:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(
            parts.hostname or "",
            parts.port,
            timeout=timeout,
            source_address=(self.source, 0) if self.source else None,
        )
        sent = {"Connection": "close", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path or "/", body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read())
        finally:
            connection.close()
        for cookie in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name.strip()] = value
            else:  # the server cleared it
                self.cookies.pop(name.strip(), None)
        return reply

    def get(self, url: str, **kwargs: Any) -> Reply:
        return self.request("GET", url, **kwargs)

    def post_json(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", url, headers=sent, body=json.dumps(payload).encode())

    def post_form(
        self, url: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> Reply:
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", url, headers=sent, body=urlencode(form).encode())

    def login(
        self, base: str, username: str, password: str, headers: dict[str, str] | None = None
    ) -> Reply:
        """Sign in through ``base``'s real login form (its CSRF token included)."""
        page = self.get(f"{base}/login")
        found = CSRF_FIELD.search(page.text)
        assert found, f"no CSRF token on {base}/login ({page.status})"
        form = {"username": username, "password": password, "csrf_token": found.group(1)}
        return self.post_form(f"{base}/login", form, headers)
