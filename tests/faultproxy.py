"""An in-process TCP proxy for fault-injection tests: it passes, resets or black-holes
the connections between the app and a real server (PostgreSQL, Redis).

``pass`` forwards bytes both ways. ``reset`` aborts every connection, open or new, with a
TCP reset. ``blackhole`` accepts connections and forwards nothing, as a network partition
looks to a client: its requests are never answered. Switching back to ``pass`` lets
traffic through again, so a test can watch the app recover without a restart.

``python -m tests.faultproxy LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT`` runs a
passing proxy until killed, for example inside a network namespace (``ip netns exec``).
"""

import select
import socket
import struct
import threading
from typing import Literal

Mode = Literal["pass", "reset", "blackhole"]


class FaultProxy:
    """Listens on ``listen_host`` (a free port unless ``listen_port``) and forwards to
    ``target``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self._listener = socket.create_server((listen_host, listen_port))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode

    def close(self) -> None:
        self._closed.set()
        self._accepting.join(timeout=2)
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            while not self._closed.is_set():
                if self.mode == "reset":
                    _reset(client)
                    return
                if self.mode == "blackhole":  # read nothing, answer nothing
                    self._closed.wait(0.05)
                    continue
                if upstream is None:  # connect lazily: a black-holed client never gets one
                    upstream = socket.create_connection(self.target, timeout=2)
                readable, _, _ = select.select([client, upstream], [], [], 0.05)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a crashed server or a firewall would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


if __name__ == "__main__":
    import sys

    listen_host, listen_port, target_host, target_port = sys.argv[1:5]
    proxy = FaultProxy(target_host, int(target_port), listen_host, int(listen_port))
    print(proxy.port, flush=True)  # the parent waits for this line: the port is open
    threading.Event().wait()
