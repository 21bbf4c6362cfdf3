#!/bin/sh
# `make test`: the browser tests drive Debian's chromium. Install it when we can (root + apt).
# Best effort on a developer's machine (the browser tests are then skipped, and say why); under
# CI=true a browser that is missing and cannot be installed fails the run, so CI cannot be green
# without the browser tests having run (tests/test_browser.py fails them on CI, too).
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
    && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    && command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "${CI:-}" = true ]; then
  echo "CI=true: chromium is missing and could not be installed; the browser tests must run in CI" >&2
  exit 1
fi
echo "No chromium: the browser tests will be skipped (apt-get install chromium)"
exit 0
