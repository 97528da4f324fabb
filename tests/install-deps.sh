#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing btrfs-tools needs on Debian 12 (run as
# root). Packages already installed are not asked for again, so that a
# machine that has everything needs neither the network nor apt-get.
set -euo pipefail

PACKAGES=(
	# libraries (configure names these when they are missing)
	uuid-dev libblkid-dev zlib1g-dev libzstd-dev liblzo2-dev
	libxxhash-dev libgcrypt20-dev libisal-dev
	# build tools
	autoconf automake libtool pkg-config make gcc python3-docutils
	# tests: runner, reference tool, image handling, fill scripts
	bats btrfs-progs xz-utils util-linux python3
	# tests/fuzz: libFuzzer targets
	clang libclang-rt-14-dev
)

# missing_packages: the PACKAGES not installed yet, one per line
missing_packages() {
	local pkg status

	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || echo "$pkg"
	done
}

main() {
	local missing

	mapfile -t missing < <(missing_packages)
	if [ ${#missing[@]} = 0 ]; then
		echo "install-deps: all ${#PACKAGES[@]} packages are installed"
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: run as root to install: ${missing[*]}" >&2
		return 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y "${missing[@]}"
}

main "$@"
