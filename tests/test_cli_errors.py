"""File-system errors of the ``youjun`` command are explained in Chinese with the path and the cause (exit code 1,
never "程序内部错误"); unexpected failures are logged in a private per-user file that a planted symlink cannot
redirect."""

from __future__ import annotations

import os
import re
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from youjun.io.synth import generate, write_csv

INTERNAL = "程序内部错误"


def run(
    *args: str | Path,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    stdout: int | None = None,
    preexec: Callable[[], None] | None = None,
    code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess with a private HOME (so the error log never lands in the tester's home)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "youjun.cli"]
    result = subprocess.run(
        [*command, *map(str, args)],
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
            "PYTHONIOENCODING": "utf-8",
            "HOME": str(home),
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
            **(env or {}),
        },
        preexec_fn=preexec,
        timeout=120,
    )
    assert "Traceback" not in (result.stdout or "") + result.stderr
    return result


def _message(result: subprocess.CompletedProcess[str]) -> str:
    """The error text as one line: rich wraps long lines (inside a word, too), so line breaks are dropped."""
    return re.sub(r"\s*\n\s*", "", result.stderr).strip()


@pytest.fixture(scope="module")
def schools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-errors") / "schools.csv"
    write_csv(generate(1, seed=3, province="34").schools, path)
    return path


OUTPUTS = [
    ("template", "{out}.xlsx"),
    ("evaluate {schools} --format json --out", "{out}.json"),
    ("evaluate {schools} --format xlsx --out", "{out}.xlsx"),
    ("synth --counties 1 --out", "{out}.csv"),
    ("synth --counties 1 --out", "{out}.xlsx"),
]


def _args(command: str, target: str, schools: Path, out: Path) -> list[str]:
    return [*command.format(schools=schools).split(), target.format(out=out)]


@pytest.mark.parametrize(("command", "target"), OUTPUTS)
def test_an_output_in_a_missing_directory_names_the_directory(
    command: str, target: str, schools: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "没有的目录"
    result = run(*_args(command, target, schools, missing / "a" / "报告"), tmp_path=tmp_path)
    assert result.returncode == 1
    message = _message(result)
    assert f"目录「{missing}」不存在" in message and "处理已中止" in message
    assert INTERNAL not in message and not missing.exists()


@pytest.mark.parametrize(("command", "target"), OUTPUTS)
def test_an_output_that_is_a_directory_says_so(command: str, target: str, schools: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    args = _args(command, target, schools, folder)
    Path(args[-1]).mkdir()
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 1
    assert f"「{args[-1]}」" in _message(result) and "这是一个目录" in _message(result)
    assert INTERNAL not in result.stderr


def test_an_output_below_a_file_says_a_part_is_not_a_directory(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    result = run("template", plain / "模板.xlsx", tmp_path=tmp_path)
    assert result.returncode == 1 and "路径中有一部分不是目录" in _message(result) and str(plain) in _message(result)


def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory this process cannot write into: mode 0500, or (as root, who ignores modes) sysfs."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    sysfs = Path("/sys")
    try:
        (sysfs / "youjun-probe").open("w").close()
    except PermissionError:
        return sysfs
    except OSError:
        pass
    pytest.skip("no directory refuses writes to this (root) user")


@pytest.mark.parametrize(("command", "target"), OUTPUTS)
def test_permission_denied_names_the_directory_and_the_cause(
    command: str, target: str, schools: Path, tmp_path: Path
) -> None:
    folder = _unwritable_directory(tmp_path)
    result = run(*_args(command, target, schools, folder / "youjun-test-output"), tmp_path=tmp_path)
    assert result.returncode == 1
    message = _message(result)
    assert "没有权限" in message and str(folder) in message and INTERNAL not in message
    assert not list(folder.glob("*youjun-test-output*"))


def test_a_full_disk_is_reported(schools: Path, tmp_path: Path) -> None:
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full here")
    with full.open("w") as sink:  # the JSON goes to standard output, which is the full device
        result = run("evaluate", schools, "--format", "json", tmp_path=tmp_path, stdout=sink.fileno())
    assert result.returncode == 1
    assert "磁盘空间不足" in _message(result) and INTERNAL not in result.stderr


def test_a_file_size_limit_is_reported(tmp_path: Path) -> None:
    def limit() -> None:  # a quota-like limit: the write fails with EFBIG instead of killing the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    target = tmp_path / "模板.xlsx"
    result = run("template", target, tmp_path=tmp_path, preexec=limit)
    assert result.returncode == 1
    message = _message(result)
    assert "文件超过了允许的大小" in message and str(tmp_path) in message and INTERNAL not in message
    assert not target.exists()


# ----------------------------------------------------------------------------------------------------------------
# The error log of unexpected failures

FAIL = (
    "import sys\n"
    "import youjun.io.workbook as workbook\n"
    "def broken(*args, **kwargs):\n"
    "    raise RuntimeError('模拟的意外错误')\n"
    "workbook.write_template = broken\n"
    "from youjun.cli import main\n"
    "sys.argv = ['youjun', *sys.argv[1:]]\n"
    "main()\n"
)


def _fail(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run("template", tmp_path / "x.xlsx", tmp_path=tmp_path, env=env, code=FAIL)


def test_an_unexpected_failure_is_logged_privately(tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = _fail(tmp_path, XDG_STATE_HOME=str(state))
    log = state / "youjun" / "error.log"
    assert result.returncode == 3
    assert INTERNAL in result.stderr and str(log) in _message(result)
    assert "RuntimeError: 模拟的意外错误" in log.read_text(encoding="utf-8")
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700 and stat.S_IMODE(log.stat().st_mode) == 0o600
    _fail(tmp_path, XDG_STATE_HOME=str(state))
    assert log.read_text(encoding="utf-8").count("模拟的意外错误") == 2  # appended, not replaced


def test_without_xdg_state_home_the_log_is_in_the_home_directory(tmp_path: Path) -> None:
    result = _fail(tmp_path, XDG_STATE_HOME="relative/is/ignored")
    log = tmp_path / "home" / ".local" / "state" / "youjun" / "error.log"
    assert result.returncode == 3 and "模拟的意外错误" in log.read_text(encoding="utf-8")
    assert not (tmp_path / "relative").exists()


def test_a_planted_symlink_does_not_redirect_the_log(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "youjun").mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("原内容", encoding="utf-8")
    (state / "youjun" / "error.log").symlink_to(victim)
    result = _fail(tmp_path, XDG_STATE_HOME=str(state))
    assert result.returncode == 3 and "无法写入日志文件" in _message(result)
    assert victim.read_text(encoding="utf-8") == "原内容"


def test_a_symlinked_or_open_log_directory_is_not_used_as_it_is(tmp_path: Path) -> None:
    state, elsewhere = tmp_path / "state", tmp_path / "elsewhere"
    state.mkdir()
    elsewhere.mkdir()
    (state / "youjun").symlink_to(elsewhere, target_is_directory=True)
    assert _fail(tmp_path, XDG_STATE_HOME=str(state)).returncode == 3
    assert not (elsewhere / "error.log").exists()
    # An existing directory that others can read is made private before the log is written.
    other = tmp_path / "other-state"
    (other / "youjun").mkdir(parents=True)
    (other / "youjun").chmod(0o777)
    assert _fail(tmp_path, XDG_STATE_HOME=str(other)).returncode == 3
    assert stat.S_IMODE((other / "youjun").stat().st_mode) == 0o700
    assert (other / "youjun" / "error.log").exists()


def test_an_output_that_is_not_a_regular_file_is_never_replaced(tmp_path: Path, schools: Path) -> None:
    """Writers save beside the target and rename over it: a device or a pipe as --out must be refused untouched."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args in (("template", fifo), ("evaluate", schools, "--format", "json", "--out", fifo)):
        result = run(*args, tmp_path=tmp_path)
        assert result.returncode == 1, result.stderr
        shown = "".join(ch for ch in result.stderr if "\u4e00" <= ch <= "\u9fff")  # the table wraps the cell
        assert "是设备或特殊文件不是普通文件不会覆盖它" in shown
        assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe
