"""Profile the dashboard callback in-process with pyinstrument, the way RESULTS.md was made.

    python -m bench.profile_callback --size 1000000 --maker Ford --requests 30

Runs fueldash (production settings, figure cache off) on a generated SQLite store through
Flask's test client, so the profile shows only Python time, without gunicorn or sockets.
"""

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=406)
    parser.add_argument("--maker", default="Toyota")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    from bench.generate import sqlite_store

    os.environ.update(
        DATABASE_URL=f"sqlite:///{sqlite_store(args.size)}",
        FUELDASH_ENV="production",
        SECRET_KEY="profile-only-secret-key-not-for-production",
        CACHE_TYPE="NullCache",
    )
    from pyinstrument import Profiler

    from bench.load import ACCEPT_ENCODING
    from bench.run import UPDATE_PATH, callback_body
    from server import create_app

    client = create_app().test_client()
    body = callback_body(args.maker, "fueldash").encode()
    headers = {"Accept-Encoding": ACCEPT_ENCODING}

    def post() -> int:
        response = client.post(
            UPDATE_PATH, data=body, headers=headers, content_type="application/json"
        )
        return len(response.data)

    for _ in range(5):
        size = post()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    started = time.perf_counter()
    for _ in range(args.requests):
        post()
    elapsed = (time.perf_counter() - started) / args.requests * 1000
    profiler.stop()
    print(
        profiler.output_text(
            unicode=False, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
        )
    )
    print(f"{elapsed:.2f} ms per callback (profiled), {size} bytes per response")


if __name__ == "__main__":
    main()
