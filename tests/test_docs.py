"""The documentation: it builds without a warning, its schemas are real JSON Schema, and the
code on its pages does what the pages say.

Pages listed in ``EXERCISED_PAGES`` are run for real, top to bottom, in a fresh virtual
environment with hookwire installed:

- a code block whose ``:caption:`` names a file (```` ```{code-block} python ```` with
  ``:caption: pizzeria_sms/signals.py``) is written to that path, relative to a working folder
  for the page; a later block with the same caption replaces the file, as the reader would;
- a ``console`` block is a shell session: each ``$ command`` runs in that folder with the
  venv's ``bin`` first on ``PATH``, and the lines after it, up to the next ``$``, are its expected
  output (stdout and stderr together, trailing spaces ignored; a line ``...`` stands for any
  number of lines, and ``...`` within a line for any text, such as a path). ``pip install``
  commands install into the venv without network, and their output is not compared;
- the ``pycon`` blocks of a page are one interpreter session, run as doctests (``...`` elides
  output) by the venv's interpreter in that folder once the page's last ``pycon`` block is
  reached;
- ``<!-- docs-test: exit status N -->`` right before a console block says its commands exit
  with status ``N`` (the default is 0), as ``hookwire plugins check`` does when a plugin failed;
- ``<!-- docs-test: skip -->`` right before a block leaves it out, for illustrations that are
  not meant to run (another library's code, a fragment). Any other ``python`` or ``toml`` block
  on an exercised page is an error, so no example can silently go untested.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import sys
import sysconfig
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from docstools import SCHEMAS, DocsBuild, prose_text
from onepython import DOCS_AS_WRITTEN, interpreter_independent
from venvtools import ROOT, Venv

DOCS = ROOT / "docs"

# Pages whose code blocks are run by test_every_example_on_the_page_runs_as_shown.
EXERCISED_PAGES = [
    "index.md",
    "installation.md",
    "tutorials/first-plugin.md",
    "tutorials/pluggable-app.md",
    "concepts/loading-phases.md",
    "concepts/identity-and-weak-references.md",
    "concepts/threads-and-async.md",
    "howto/async-receivers.md",
    "howto/ordering.md",
    "howto/enable-disable.md",
    "howto/lifecycle.md",
    "howto/troubleshooting.md",
    "howto/testing-plugins.md",
    "howto/manage-plugins.md",
    "reference/cli.md",
    "reference/json.md",
    "howto/migrate-from-django.md",
    "howto/django-dispatcher.md",
    "howto/migrate-from-pluggy.md",
    "howto/migrate-from-blinker.md",
    "howto/remote-receivers.md",
    "howto/plugin-api.md",
    "howto/lazy-plugins.md",
    "howto/opentelemetry.md",
    "howto/embed-fastapi.md",
    "howto/embed-django.md",
    "howto/embed-flask.md",
    "howto/embed-script.md",
]


# --------------------------------------------------------------------------------------------
# Reading pages


@dataclass
class Block:
    """One fenced block of a page, with what the markers around it say."""

    language: str
    body: str
    line: int
    caption: str | None = None
    skip: bool = False
    status: int = 0


@dataclass
class Command:
    """One ``$ command`` of a console block and the output the page shows for it."""

    command: str
    expected: list[str] = field(default_factory=list)


_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
_SKIP_MARKER = "<!-- docs-test: skip -->"
_STATUS_MARKER = re.compile(r"^<!-- docs-test: exit status (\d+) -->$")


def read_blocks(text: str) -> Iterator[Block]:
    """Yield every fenced block of a MyST page in order, nested fences included once."""
    lines = text.splitlines()
    index = 0
    skip_next = False
    status_next = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        opening = _FENCE_OPEN.match(stripped)
        if stripped == _SKIP_MARKER:
            skip_next = True
            index += 1
            continue
        status_marker = _STATUS_MARKER.match(stripped)
        if status_marker:
            status_next = int(status_marker.group(1))
            index += 1
            continue
        if not opening:
            if stripped:
                skip_next = False
                status_next = 0
            index += 1
            continue
        fence, info = opening.group("fence"), opening.group("info").strip()
        start = index + 1
        index = start
        body_lines: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body_lines.append(lines[index])
            index += 1
        index += 1  # the closing fence
        language, caption = info, None
        directive = re.match(r"^\{(code-block|code|sourcecode)\}\s*(\S*)", info)
        if directive:
            language = directive.group(2)
            options = []
            while body_lines and body_lines[0].startswith(":"):
                options.append(body_lines.pop(0))
            for option in options:
                key, _, value = option[1:].partition(":")
                if key.strip() == "caption":
                    caption = value.strip()
            if body_lines and not body_lines[0].strip():
                body_lines.pop(0)
        elif info.startswith("{"):
            skip_next = False
            status_next = 0
            continue  # another directive (toctree, note...): not an example
        body = "\n".join(body_lines) + "\n"
        yield Block(language or "text", body, start, caption, skip_next, status_next)
        skip_next = False
        status_next = 0


def read_commands(body: str) -> list[Command]:
    """Split a console block into its ``$`` commands and their expected output."""
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line[2:].strip()))
        elif commands:
            commands[-1].expected.append(line.rstrip())
        elif line.strip():
            raise AssertionError(f"console block starts with output, not a command: {line!r}")
    return commands


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line comparison where an expected line ``...`` matches any number of lines."""
    while expected and not expected[-1]:
        expected = expected[:-1]
    while actual and not actual[-1]:
        actual = actual[:-1]
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(output_matches(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and line_matches(head, actual[0]) and output_matches(rest, actual[1:])


def line_matches(expected: str, actual: str) -> bool:
    """Equal lines, where ``...`` inside an expected line stands for any text (a path, say)."""
    if "..." not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


# --------------------------------------------------------------------------------------------
# The build


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_documentation_builds_without_warnings(docs_build: DocsBuild) -> None:
    assert docs_build.returncode == 0, docs_build.stdout[-3000:] + docs_build.stderr
    assert "WARNING" not in docs_build.stderr, docs_build.stderr
    assert (docs_build.html / "index.html").is_file()


# reST and MyST markup that leaks as text when a docstring or page is misparsed: roles and
# fields (":class:`X`", ":raises KeyError:"), double back-quotes, MyST roles ("{doc}`x`") and
# the bold that "__init__" becomes when read as markup.
_RAW_MARKUP = re.compile(
    r"``|:(?:class|meth|func|attr|mod|data|exc|obj|raises|param|returns|rtype|warns)[: `]"
    r"|\{(?:doc|ref|py:\w+)\}`|\*\*\w+\*\*"
)


@interpreter_independent(DOCS_AS_WRITTEN)
def test_no_page_shows_raw_markup(docs_build: DocsBuild) -> None:
    """Outside code (where a page may show markup on purpose, as the changelog does), no page
    shows reST or MyST syntax as text."""
    leaks = {}
    for page in docs_build.pages():
        found = _RAW_MARKUP.findall(prose_text(docs_build.page(page), inline_code=False))
        if found:
            leaks[page] = sorted(set(found))
    assert leaks == {}
    assert len(docs_build.pages()) > 20


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_api_reference_shows_no_markup_in_its_preformatted_text_either(
    docs_build: DocsBuild,
) -> None:
    """Module docstrings shown as preformatted text (the exception tree, the signal list) carry
    no reST roles or double back-quotes: they are read as they are."""
    text = html.unescape(re.sub(r"<[^>]+>", "", docs_build.page("reference/api")))
    assert _RAW_MARKUP.findall(text) == []


@interpreter_independent(DOCS_AS_WRITTEN)
def test_file_name_captions_keep_their_underscores(docs_build: DocsBuild) -> None:
    page = docs_build.page("tutorials/first-plugin")
    captions = re.findall(r'<span class="caption-text">(.*?)</span>', page)
    assert "hello-plugin/hello_plugin/__init__.py" in captions
    assert not any("<strong>" in caption for caption in captions)


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_api_reference_shows_no_private_name(docs_build: DocsBuild) -> None:
    """Outside code examples, the reference names only public objects: no ``_module``,
    ``_Class`` or ``_parameter`` (dunder methods such as ``__getitem__`` are public)."""
    text = prose_text(docs_build.page("reference/api"))
    private = set(re.findall(r"(?<![\w])_(?!_)[A-Za-z]\w*|\._[A-Za-z]\w*", text))
    assert private == set()
    assert "<object object" not in text
    # Constructors say nothing about returning None, and attribute docstrings are not read as
    # "type: description" (which showed their first words as a "Type:" field).
    assert "Return type: None" not in text
    assert "Type:" not in text


@interpreter_independent(DOCS_AS_WRITTEN)
def test_every_public_name_has_a_linkable_entry(docs_build: DocsBuild) -> None:
    """Each public object of the API is an entry of the inventory that Sphinx publishes
    (``objects.inv``), so any page (or another project) can link to it."""
    import importlib

    from sphinx.util.inventory import InventoryFile

    with (docs_build.html / "objects.inv").open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    documented = {name for entries in inventory.values() for name in entries}
    expected = []
    for module_name in ["hookwire", "hookwire.signals", "hookwire.exceptions", "hookwire.testing"]:
        module = importlib.import_module(module_name)
        expected += [
            f"{module_name}.{name}"
            for name in module.__all__
            if name not in {"__version__", "exceptions"}
        ]
    expected += [
        f"hookwire.Plugin.{attribute}"
        for attribute in ["name", "verbose_name", "requires", "requires_host", "signals_module"]
    ]
    expected += ["hookwire.signals", "hookwire.remote", "hookwire.testing", "hookwire.exceptions"]
    assert sorted(set(expected) - documented) == []


@interpreter_independent(DOCS_AS_WRITTEN)
def test_code_blocks_copy_commands_without_prompts_or_output(docs_build: DocsBuild) -> None:
    script = (docs_build.html / "_static" / "copybutton.js").read_text(encoding="utf-8")
    # The configured call: prompts "$ ", ">>> " and "... " as a regular expression, only lines
    # with a prompt copied (output left out), the prompts removed.
    assert r"formatCopyText(text, '\\$ |>>> |\\.\\.\\. ', true, true, true" in script
    for page in ["index", "tutorials/first-plugin", "reference/json"]:
        assert "_static/copybutton.js" in docs_build.page(page)


# --------------------------------------------------------------------------------------------
# JSON schemas


def load_schema(name: str) -> dict[str, object]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "name", ["plugins-list.schema.json", "plugins-info.schema.json", "signals.schema.json"]
)
def test_each_published_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(load_schema(name))


def test_the_plugins_list_schema_accepts_the_documented_shape_and_rejects_a_renamed_key() -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema("plugins-list.schema.json"))
    plugin = {
        "name": "sms",
        "distribution": "pizzeria-sms",
        "version": "1.0",
        "entry_point": "sms = pizzeria_sms:SmsPlugin",
        "state": "failed",
        "error": "plugin 'sms' (pizzeria-sms 1.0) failed in ready: boom",
        "receivers": 0,
        "requires": ["loyalty"],
    }
    assert list(validator.iter_errors([plugin])) == []
    renamed = dict(plugin)
    renamed["status"] = renamed.pop("state")
    assert list(validator.iter_errors([renamed]))
    assert list(validator.iter_errors([{**plugin, "state": "sleeping"}]))


def test_the_signals_schema_accepts_the_documented_shape_and_rejects_a_missing_key() -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema("signals.schema.json"))
    receiver = {
        "receiver": "pizzeria_sms.signals.text_the_customer",
        "file": "/x/signals.py",
        "line": 7,
        "plugin": "sms",
        "sender": None,
        "weak": True,
        "dispatch_uid": None,
        "async": False,
    }
    argument = {"name": "size", "type": "str", "deprecated": False, "replacement": None}
    signal = {
        "signal": "pizzeria.signals.pizza_done",
        "doc": "A pizza is ready.",
        "args": [argument],
        "receivers": [receiver],
    }
    assert list(validator.iter_errors([signal])) == []
    assert list(validator.iter_errors([{**signal, "doc": None, "args": None}])) == []
    without_async = {key: value for key, value in receiver.items() if key != "async"}
    assert list(validator.iter_errors([{**signal, "receivers": [without_async]}]))
    without_args = {key: value for key, value in signal.items() if key != "args"}
    assert list(validator.iter_errors([without_args]))
    assert list(validator.iter_errors([{**signal, "args": [{"name": "size"}]}]))


# --------------------------------------------------------------------------------------------
# The page reader itself (a broken reader would let every page "pass")


def test_the_page_reader_finds_captions_skips_and_console_commands() -> None:
    page = "\n".join(
        [
            "# Title",
            "```{code-block} python",
            ":caption: pkg/signals.py",
            "",
            "x = 1",
            "```",
            "<!-- docs-test: skip -->",
            "```python",
            "y = 2",
            "```",
            "<!-- docs-test: exit status 1 -->",
            "```console",
            "$ echo hi",
            "hi",
            "$ true",
            "```",
        ]
    )
    first, second, third = read_blocks(page)
    assert (first.language, first.caption, first.body, first.skip) == (
        "python",
        "pkg/signals.py",
        "x = 1\n",
        False,
    )
    assert (second.language, second.skip) == ("python", True)
    assert third.status == 1
    assert [(c.command, c.expected) for c in read_commands(third.body)] == [
        ("echo hi", ["hi"]),
        ("true", []),
    ]


def test_expected_output_matching_honours_ellipsis_lines_and_nothing_else() -> None:
    assert output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert output_matches(["a", "...", "d"], ["a", "d"])
    assert not output_matches(["a", "d"], ["a", "b", "d"])
    assert not output_matches(["a"], ["a", "extra"])
    assert output_matches(["a", ""], ["a"])
    assert output_matches(
        ["  1  f  .../site-packages/p/signals.py:5"], ["  1  f  /v/site-packages/p/signals.py:5"]
    )
    assert not output_matches(["  1  f  .../p/signals.py:5"], ["  1  g  /v/p/signals.py:5"])


# --------------------------------------------------------------------------------------------
# Running the pages


def _pip_install(venv: Venv, workdir: Path, command: str, prebuilt: Mapping[Path, Path]) -> None:
    """Install what a page's ``pip install`` names, offline; a folder of ``prebuilt`` (the
    example packages) as the wheel the run built of it once."""
    args = shlex.split(command)
    install_at = args.index("install")
    targets = [arg for arg in args[install_at + 1 :] if not arg.startswith("-")]
    editable = "-e" in args[install_at + 1 :] or "--editable" in args[install_at + 1 :]
    folders = [(workdir / target).resolve() for target in targets]
    paths = [str(folder if editable else prebuilt.get(folder, folder)) for folder in folders]
    if editable:
        for path in paths:
            venv.pip("install", "--quiet", "--no-deps", "--no-build-isolation", "-e", path)
    else:
        venv.install(*paths)


def _run_console(
    venv: Venv, workdir: Path, block: Block, page: str, prebuilt: Mapping[Path, Path]
) -> None:
    env = {
        # The venv's own commands first, then this environment's (whose packages the venv
        # sees too), as in a session of the test runner: commands such as
        # opentelemetry-instrument come from there.
        "PATH": os.pathsep.join(
            (str(venv.bin), sysconfig.get_path("scripts"), os.environ.get("PATH", ""))
        ),
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "TERM": "dumb",
        # As on a terminal, stdout is written line by line, so that the host's prints and the
        # CLI's stderr lines interleave as the page shows them.
        "PYTHONUNBUFFERED": "1",
        # pip run by "hookwire plugins install" builds with what is installed, offline.
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_NO_INDEX": "1",
        # The user's data and state folders (the embedded broker of remote receivers, the
        # worker's attempt records) are the page's own.
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_STATE_HOME": str(workdir / "state"),
    }
    for command in read_commands(block.body):
        if re.match(r"^(python -m )?pip install ", command.command):
            _pip_install(venv, workdir, command.command, prebuilt)
            continue
        result = venv.run("bash", "-c", command.command + " 2>&1", env=env, cwd=workdir)
        actual = [line.rstrip() for line in result.stdout.splitlines()]
        where = f"{page}:{block.line}: $ {command.command}"
        assert result.returncode == block.status, (
            f"{where} exited {result.returncode}, the page says {block.status}:\n{result.stdout}"
        )
        assert output_matches(command.expected, actual), (
            f"{where}\n--- page shows ---\n"
            + "\n".join(command.expected)
            + "\n--- it printed ---\n"
            + "\n".join(actual)
        )


_DOCTEST_DRIVER = """
import doctest, json, sys
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
parser = doctest.DocTestParser()
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
globs = {"__name__": "__main__"}
for name, text in blocks:
    test = parser.get_doctest(text, globs, name, name, 0)
    runner.run(test, clear_globs=False)
    globs = test.globs  # DocTest copies its globals: carry them to the next block
failed, tried = runner.summarize(verbose=False)
sys.exit(1 if failed or not tried else 0)
"""


def _run_doctests(venv: Venv, workdir: Path, blocks: list[Block], page: str) -> None:
    """Run a page's ``pycon`` blocks as one interpreter session, in page order."""
    session = workdir / "_pycon_session.json"
    session.write_text(
        json.dumps([[f"{page}:{block.line}", block.body] for block in blocks]), encoding="utf-8"
    )
    driver = workdir / "_pycon_driver.py"
    driver.write_text(_DOCTEST_DRIVER, encoding="utf-8")
    result = venv.run(str(venv.python), str(driver), str(session), cwd=workdir)
    assert result.returncode == 0, f"{page}: pycon examples failed\n{result.stdout}{result.stderr}"


def run_page(
    page: str, venv: Venv, workdir: Path, prebuilt: Mapping[Path, Path] | None = None
) -> int:
    """Run every example of ``page``; return how many blocks were exercised.

    ``prebuilt`` maps project folders to wheels already built of them, installed instead.

    ``pycon`` blocks form one interpreter session, as a reader typing along would have; it runs
    after the page's last ``pycon`` block has been reached, so files written and commands run
    before that point are in place.
    """
    blocks = list(read_blocks((DOCS / page).read_text(encoding="utf-8")))
    last_pycon = max(
        (
            index
            for index, block in enumerate(blocks)
            if block.language == "pycon" and not block.skip
        ),
        default=-1,
    )
    exercised = 0
    for index, block in enumerate(blocks):
        if block.skip:
            continue
        if block.caption:
            target = workdir / block.caption
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        elif block.language == "console":
            _run_console(venv, workdir, block, page, prebuilt or {})
        elif block.language == "pycon":
            if index == last_pycon:
                pycon = [b for b in blocks if b.language == "pycon" and not b.skip]
                _run_doctests(venv, workdir, pycon, page)
        elif block.language in {"python", "py", "toml", "ini", "cfg"}:
            raise AssertionError(
                f"{page}:{block.line}: a {block.language} block with no :caption: file and no "
                f"skip marker; it would go untested"
            )
        else:
            continue
        exercised += 1
    return exercised


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("page", EXERCISED_PAGES)
def test_every_example_on_the_page_runs_as_shown(
    page: str,
    make_venv: Callable[[], Venv],
    tmp_path: Path,
    example_wheels: dict[str, Path],
) -> None:
    venv = make_venv()
    workdir = tmp_path / "work"
    workdir.mkdir()
    # Pages that install the example do it from ./plugins_example, as from a checkout; each
    # of those packages is installed from the wheel the run built of it.
    (workdir / "plugins_example").symlink_to(ROOT / "plugins_example")
    prebuilt = {ROOT / "plugins_example" / name: wheel for name, wheel in example_wheels.items()}
    assert run_page(page, venv, workdir, prebuilt) > 0


# --------------------------------------------------------------------------------------------
# The real CLI output against the published schemas


@pytest.mark.e2e
def test_the_cli_json_output_validates_against_the_published_schemas(
    make_venv: Callable[[], Venv],
) -> None:
    from jsonschema import Draft202012Validator

    venv = make_venv()
    venv.add_dist_info(
        "schema-demo",
        "2.0",
        entry_points={
            "hookwire.plugins": {
                "working": "schema_demo",
                "broken": "schema_demo_missing",
                "switched-off": "schema_demo",
            }
        },
        modules={
            "schema_demo/__init__.py": "requires = ()\n",
            "schema_demo/signals.py": """
                from hookwire import receiver
                from hookwire.signals import host_started

                @receiver(host_started, dispatch_uid="schema-demo")
                def on_start(sender, **kwargs):
                    pass

                @receiver(host_started, weak=False)
                async def on_start_async(sender, **kwargs):
                    pass
            """,
        },
    )
    env = {"HOOKWIRE_DISABLE_PLUGINS": "switched-off"}

    listed = venv.run("hookwire", "plugins", "list", "--all", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    plugins = json.loads(listed.stdout)
    Draft202012Validator(load_schema("plugins-list.schema.json")).validate(plugins)
    assert {plugin["name"]: plugin["state"] for plugin in plugins} == {
        "working": "ready",
        "broken": "failed",
        "switched-off": "disabled",
    }

    shown = venv.run("hookwire", "signals", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    signals = json.loads(shown.stdout)
    Draft202012Validator(load_schema("signals.schema.json")).validate(signals)
    (started,) = [entry for entry in signals if entry["signal"] == "hookwire.signals.host_started"]
    receivers = {receiver["receiver"]: receiver for receiver in started["receivers"]}
    assert receivers["schema_demo.signals.on_start"]["dispatch_uid"] == "schema-demo"
    assert receivers["schema_demo.signals.on_start"]["plugin"] == "working"
    assert receivers["schema_demo.signals.on_start_async"]["async"] is True
    assert receivers["schema_demo.signals.on_start_async"]["weak"] is False


# --------------------------------------------------------------------------------------------
# The benchmarks page includes a file the docs do not own


def test_the_included_benchmarks_readme_is_adapted_so_any_content_builds() -> None:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from generated_pages import adapt_markdown
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    text = "\n".join(
        [
            "# Benchmarks",
            "See [the script](bench_dispatch.py) and ![chart](chart.png).",
            "```console",
            "# not a heading",
            "```",
            "# Results",
            "[site](https://example.org/x)",
        ]
    )
    assert adapt_markdown(text).splitlines() == [
        "See the script (`bench_dispatch.py`) and chart (`chart.png`).",
        "```console",
        "# not a heading",
        "```",
        "## Results",
        "[site](https://example.org/x)",
    ]


# --------------------------------------------------------------------------------------------
# The API reference names every public object


@pytest.mark.parametrize("module_name", ["hookwire", "hookwire.testing"])
def test_the_api_reference_documents_every_public_name(module_name: str) -> None:
    import importlib

    module = importlib.import_module(module_name)
    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    # Modules are documented by their own sections; __version__ is not an API object.
    public = [name for name in module.__all__ if name not in {"__version__", "exceptions"}]
    missing = [name for name in public if f"{module_name}.{name}" not in page]
    assert missing == [], f"docs/reference/api.md does not document {missing}"


def test_every_page_with_examples_is_exercised() -> None:
    runnable = {"python", "py", "pycon", "console", "toml"}
    pages = sorted(
        str(path.relative_to(DOCS))
        for path in DOCS.rglob("*.md")
        if "_build" not in path.parts and "_generated" not in path.parts
    )
    with_examples = [
        page
        for page in pages
        if any(
            block.language in runnable and not block.skip
            for block in read_blocks((DOCS / page).read_text(encoding="utf-8"))
        )
    ]
    assert sorted(EXERCISED_PAGES) == with_examples
