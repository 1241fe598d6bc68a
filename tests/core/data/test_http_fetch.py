"""Downloads never hang, never ignore Cancel, never trace back (issue 24, class 11)."""

from __future__ import annotations

import http.server
import os
import threading
import time

import pytest

from core.data import http_fetch
from core.data.http_fetch import FetchCancelled, FetchFailed, check_mirror, one_line, stream_to_file
from core.errors import UserError


@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        "http://[::1",
        "ftp://example.com/",
        "http://",
        "https://host:99999/",
        "http://host:port/",
        "http://exa mple.com/",
        "http://" + "\udcff" + ".example/",
        "file:///etc/",
        "",
    ],
)
def test_a_bad_mirror_is_one_sentence(url):
    with pytest.raises(UserError) as info:
        check_mirror(url)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/mnist", "http://127.0.0.1:8000/mnist/"),
        ("https://ex\u00e4mple.org/data/", "https://xn--exmple-cua.org/data/"),
        ("http://[::1]:8080/x/", "http://[::1]:8080/x/"),
        ("http://host/d\u00e9j\u00e0 vu/", "http://host/d%C3%A9j%C3%A0%20vu/"),
    ],
)
def test_a_good_mirror_is_normalised(url, expected):
    assert check_mirror(url) == expected


def test_a_redirect_loops_message_is_one_line():
    from urllib.error import HTTPError

    exc = HTTPError(
        "http://x/",
        302,
        "The HTTP server returned a redirect error that would lead to an "
        "infinite loop.\nThe last 30x error message was:\nFound",
        {},
        None,
    )
    assert "\n" not in one_line(exc) and "infinite loop" in one_line(exc)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # noqa: ANN002
        pass

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/drip"):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.3)
        elif self.path.startswith("/silent"):
            time.sleep(8)
        elif self.path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", self.path)
            self.end_headers()
        else:
            body = b"y" * 300_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_file_is_fetched(tmp_path, server):
    got = []
    stream_to_file(f"{server}/file", tmp_path / "f.gz", got.append)
    assert (tmp_path / "f.gz").stat().st_size == 300_000 == sum(got)
    assert not (tmp_path / "f.gz.part").exists()


def test_a_dripping_server_is_a_stall_not_a_hang(tmp_path, server, monkeypatch):
    monkeypatch.setattr(http_fetch, "STALL_SECONDS", 1.5)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="stopped sending"):
        stream_to_file(f"{server}/drip", tmp_path / "f.gz", lambda n: None)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "f.gz").exists() and not (tmp_path / "f.gz.part").exists()


@pytest.mark.parametrize("path", ["/silent", "/drip"])
def test_cancel_acts_within_a_second_even_while_nothing_arrives(tmp_path, server, path):
    asked = time.monotonic() + 0.5
    with pytest.raises(FetchCancelled):
        stream_to_file(
            f"{server}{path}", tmp_path / "f.gz", lambda n: None, lambda: time.monotonic() > asked
        )
    assert time.monotonic() - asked < 1.0


def test_a_redirect_loop_fails_in_one_line(tmp_path, server):
    with pytest.raises(Exception) as info:
        stream_to_file(f"{server}/loop", tmp_path / "f.gz", lambda n: None)
    assert "\n" not in one_line(info.value)


def test_a_planted_part_link_never_receives_the_download(tmp_path, server):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "f.gz.part")
    stream_to_file(f"{server}/file", tmp_path / "f.gz", lambda n: None)
    assert victim.read_text() == "precious"
    assert (tmp_path / "f.gz").stat().st_size == 300_000 and not (tmp_path / "f.gz").is_symlink()


def test_the_mnist_mirror_setting_is_checked_before_use(monkeypatch):
    from core.data.mnist import MIRROR_ENV, mnist_source
    from core.errors import DataError

    monkeypatch.setenv(MIRROR_ENV, "http://ok.example/ notaurl")
    with pytest.raises(DataError, match="notaurl"):
        mnist_source()
