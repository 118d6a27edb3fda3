#!/bin/sh
# Installs headless Chromium for the console's browser tests (Debian packages
# chromium and chromium-driver). Does nothing when /usr/bin/chromium exists.
set -eu

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-browser: apt-get not found; install Chromium so that /usr/bin/chromium exists" >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
	SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -qq -y --no-install-recommends chromium chromium-driver >/dev/null

if [ ! -x /usr/bin/chromium ]; then
	echo "install-browser: /usr/bin/chromium is still missing after apt-get install" >&2
	exit 1
fi
