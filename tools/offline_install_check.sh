#!/usr/bin/env bash
# Install youjun from a wheelhouse into a fresh virtual environment with pip unable to reach any registry, then run
# the command line and the web application's checks. Usage: tools/offline_install_check.sh WHEELHOUSE
set -euo pipefail
house="$(cd "${1:?usage: $0 WHEELHOUSE}" && pwd)"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
# No index, and any network use points at a closed port: the install must come from the folder alone.
export PIP_NO_INDEX=1 PIP_INDEX_URL=http://127.0.0.1:9/ PIP_FIND_LINKS="$house" PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_CONFIG_FILE=/dev/null
"$venv/bin/pip" install --quiet --require-hashes -r "$house/requirements.txt"
"$venv/bin/pip" install --quiet --no-deps "$house"/youjun-*.whl
"$venv/bin/youjun" --help >/dev/null
"$venv/bin/youjun" template "$(dirname "$venv")/模板.xlsx" >/dev/null
YOUJUN_DATA_DIR="$(dirname "$venv")/var" "$venv/bin/youjun-web" check >/dev/null
YOUJUN_DATA_DIR="$(dirname "$venv")/var" "$venv/bin/youjun-web" migrate --verbosity 0
echo "离线安装检查通过：$(ls "$house" | wc -l) 个文件，youjun 与 youjun-web 均可运行。"
