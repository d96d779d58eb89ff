#!/usr/bin/env bash
# Create the unprivileged system user the app tier runs as when the cluster is started as
# root (`make bootstrap`): clones, workers, outbox relay and Redis servers. No login shell,
# no home directory. Prints nothing and changes nothing when the user exists or when not
# run as root (then every process runs as the caller).
#
#   deploy/create-app-user.sh [NAME]     (default: scaleshop, as in deploy/runtime.py)
set -euo pipefail

name="${1:-scaleshop}"
[ "$(id -u)" -eq 0 ] || exit 0
getent passwd "$name" >/dev/null && exit 0
echo "Creating the system user $name (the app tier runs as it)"
useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin "$name"
