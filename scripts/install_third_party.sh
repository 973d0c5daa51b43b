#!/usr/bin/env bash
# Installs the third-party servers of the sockspec catalogue (Debian packages socat and
# ncat) when they are missing: `apt-get update` once, then `apt-get install -y` of only
# what is missing. Needs root (or sudo) and apt-get. Exit 0 when both commands are on PATH
# afterwards; 1 otherwise, with the tail of the apt log.
#
#   scripts/install_third_party.sh
set -uo pipefail

need=()
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v ncat >/dev/null 2>&1 || need+=(ncat)
if [ ${#need[@]} -eq 0 ]; then
  echo "third-party servers present: $(command -v socat) $(command -v ncat)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]}; this script needs apt-get (Debian/Ubuntu): install them by hand" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "missing: ${need[*]}; run this script as root (apt-get needs it)" >&2
    exit 1
  fi
fi

log=$(mktemp /tmp/sockspec-third-party-apt.XXXXXX)
echo "installing: ${need[*]} (log: $log)"
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  echo "apt-get failed; the last lines of $log:" >&2
  tail -20 "$log" >&2
  exit 1
fi
for cmd in socat ncat; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "$cmd is still not on PATH after installing ${need[*]}; see $log" >&2
    exit 1
  fi
done
rm -f "$log"
echo "installed: ${need[*]}"
