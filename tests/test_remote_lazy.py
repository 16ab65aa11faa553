"""A lazy plugin's remote receiver: activated by the first send in the sending process, and
on the worker, which serves it. A real ``hookwire worker`` on the embedded default broker,
the host and the plugin installed (as ``*.dist-info`` folders) on the processes' path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from venvtools import backdate, clean_env, write_dist_info

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOST = """
import json
import os

from hookwire import Host, Signal

order_placed = Signal(name="order_placed")


def record(**fields):
    with open(os.environ["LZSHOP_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(fields) + "\\n")


host = Host("lzshop", version="1.0", signals=[order_placed])
"""

TEXTS = """
import os

from hookwire.remote import current_delivery, remote_receiver
from lzshop import order_placed, record


@remote_receiver(order_placed, queue="texts")
def text(sender, n, **kwargs):
    record(event="done", n=n, pid=os.getpid(), attempt=current_delivery().attempt)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("celery")
    root = tmp_path_factory.mktemp("lazy-remote")
    write_dist_info(root, "lzshop", modules={"lzshop/__init__.py": HOST})
    write_dist_info(
        root,
        "lzshop-texts",
        entry_points={
            "lzshop.plugins": {"texts": "lzshop_texts"},
            "lzshop.plugins.listens": {"texts.order_placed": "lzshop:order_placed"},
        },
        modules={"lzshop_texts/__init__.py": "", "lzshop_texts/signals.py": TEXTS},
    )
    backdate(root)
    return root


@pytest.fixture
def env(site: Path, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "out.jsonl").touch()
    return clean_env(
        {
            "PYTHONPATH": str(site),
            "LZSHOP_OUT": str(tmp_path / "out.jsonl"),
            "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "HOME": str(tmp_path),
        }
    )


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hookwire", "worker", "lzshop:host", "--pool", "solo"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env=env,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        while "worker ready" not in log.read_text(encoding="utf-8"):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.1)
        yield process, log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_lazy_plugins_remote_receiver_is_activated_and_delivered_by_the_worker(
    worker: tuple[subprocess.Popen[str], Path], env: dict[str, str], tmp_path: Path
) -> None:
    code = """
        import sys
        import lzshop
        registry = lzshop.host.load()
        print(registry["texts"].state.value, "lzshop_texts" in sys.modules)
        responses = lzshop.order_placed.send(sender=None, n=7)
        print(type(responses[0][1]).__name__, registry["texts"].activation)
    """
    sent = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.split("\n")[:2] == ["declared False", "Dispatched active"]
    out = tmp_path / "out.jsonl"
    deadline = time.monotonic() + 60
    while not out.read_text(encoding="utf-8").strip():
        assert time.monotonic() < deadline, worker[1].read_text(encoding="utf-8")
        time.sleep(0.1)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["event"], r["n"], r["pid"]) for r in records] == [("done", 7, worker[0].pid)]
