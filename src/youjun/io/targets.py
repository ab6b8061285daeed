"""Where output files may go: a writer that saves to a temporary file and renames it over the target must never
replace something that is not a regular file (run as root, ``--out /dev/full`` would replace the device)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from youjun.errors import YoujunError


def check_target(path: str | os.PathLike[str]) -> Path:
    """The target as a path, refused when it exists and is a device, a pipe or a socket."""
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError:
        return target  # the write itself reports what is wrong, with the cause
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a folder: the write itself says "这是一个目录"
        message = f"输出位置「{target}」是设备或特殊文件，不是普通文件，不会覆盖它；请指定一个文件名"
        raise YoujunError.single("target_not_a_file", message, file=str(target))
    return target
