#!/usr/bin/env bash
# Installs SimpleSAMLphp (Debian's package) and the PHP CLI for samljit's end-to-end tests.
# Idempotent: returns at once when everything is already there. Needs root (CI runs as root).
#
# The package pulls in apache2, whose post-install tries to start the service; services cannot
# start in a sandbox, so a policy-rc.d that forbids starting them is in place during the
# install (and removed afterwards, even on failure). The tests never use apache: they serve
# SimpleSAMLphp with `php -S` on 127.0.0.1 (see tests/support/simplesamlphp.py).
set -euo pipefail

WWW=/usr/share/simplesamlphp/www
PACKAGES=(simplesamlphp php-cli php-xml php-mbstring)

installed() {
    command -v php >/dev/null 2>&1 && [ -d "$WWW" ] || return 1
    local modules
    modules=$(php -m 2>/dev/null) || return 1
    grep -qix 'mbstring' <<<"$modules" && grep -qix 'dom' <<<"$modules"
}

if installed; then
    echo "install-simplesamlphp: already installed ($(php -r 'echo PHP_VERSION;'))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-simplesamlphp: run as root (apt-get install ${PACKAGES[*]})" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
fi
cleanup() {
    if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi
}
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

if ! installed; then
    echo "install-simplesamlphp: the install finished but php or $WWW is missing" >&2
    exit 1
fi
echo "install-simplesamlphp: installed ($(php -r 'echo PHP_VERSION;'))"
