#!/usr/bin/env bash
# Install what the browser test (tests/browser) needs from the system: Debian's
# chromium at /usr/bin/chromium. Idempotent: does nothing when it is there.
# Without root (or without apt-get) it says so and exits 0: the browser test
# then skips itself with the reason. Playwright's own browser downloads are
# never used (no `playwright install`).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser-test-deps: $CHROMIUM missing and not root with apt-get; the browser test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; then
    echo "browser-test-deps: could not install chromium; the browser test will be skipped" >&2
fi
exit 0
