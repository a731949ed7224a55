#!/bin/sh
# deps.sh — make sure the Debian packages crossclimb builds and tests with are
# installed.  A no-op when they all are; apt-get as root or through sudo when
# some are missing; a clear message and exit 1 otherwise.
set -u
PKGS="gcc make pkg-config clang libmodbus-dev libserialport-dev check libsubunit-dev
libjson-c-dev libinih-dev libncurses-dev mbpoll python3-pymodbus python3-serial
python3-serial-asyncio socat tmux libxml2-utils librsvg2-bin"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: run as root:  apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing || {
    echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
