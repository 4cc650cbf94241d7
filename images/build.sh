#!/usr/bin/env bash
# Builds the guest image from Debian packages only (images/README.md):
#   $BUILD/image/vmlinuz       uncompressed vmlinux (PVH entry), else bzImage
#   $BUILD/image/initrd.img    lz4 cpio: the whole root filesystem
#   $BUILD/image/manifest.json versions, sizes, inputs hash, build time
# Does nothing when the inputs (package versions, images/ files, the two
# static binaries) hash as in the last build. FORCE=1 rebuilds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
OUT=$BUILD/image
CACHE=images/cache
GUEST_BIN=$BUILD/cadeia-guest
STAGE_BIN=$BUILD/cadeia-stage
# Fixed mtimes and owners: the same inputs give the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
export LC_ALL=C
MULTIARCH=x86_64-linux-gnu
INPUT_FILES=(images/build.sh images/init images/packages.conf images/modules.conf)

trap 'echo "images/build.sh: line $LINENO: command failed" >&2' ERR
die() { echo "images/build.sh: $*" >&2; exit 1; }
log() { printf '  %-8s %s\n' IMAGE "$*"; }

t0=$(date +%s.%N)
for t in apt-get apt-cache dpkg-deb cpio lz4 xz readelf modinfo depmod ldconfig sha256sum; do
	command -v "$t" >/dev/null || die "$t not found (make deps installs it)"
done
for f in "$GUEST_BIN" "$STAGE_BIN"; do
	[ -x "$f" ] || die "$f: not built (make $f)"
done
# A fresh machine may have no package lists yet.
if ! apt-cache show --no-all-versions linux-image-amd64 >/dev/null 2>&1; then
	log "apt-get update (no package lists)"
	apt-get update -qq || die "apt-get update failed"
fi

# "pkg version" per package: the candidate apt-get download would fetch.
pkg_versions() {
	local out n
	out=$(apt-cache show --no-all-versions "$@" 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }') || true
	n=$(printf '%s\n' "$out" | grep -c . || true)
	[ "$n" -eq $# ] || die "apt-cache knows $n of the $# packages $* (run apt-get update?)"
	printf '%s\n' "$out"
}

# The text whose hash decides whether to rebuild: one line per input.
inputs_text() {
	local f
	for f in "${INPUT_FILES[@]}" "$GUEST_BIN" "$STAGE_BIN"; do
		echo "file $(sha256sum <"$f" | cut -d' ' -f1) ${f#"$BUILD"/}"
	done
	pkg_versions "$@" | sort | sed 's/^/pkg /'
}

if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/inputs.txt" ] && [ -f "$OUT/manifest.json" ] &&
	[ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; then
	old_pkgs=$(awk '$1 == "pkg" { print $2 }' "$OUT/inputs.txt")
	# shellcheck disable=SC2086
	if [ -n "$old_pkgs" ] && inputs_text $old_pkgs | cmp -s - "$OUT/inputs.txt"; then
		log "up to date: $OUT (inputs sha256 $(sha256sum <"$OUT/inputs.txt" | cut -c1-16))"
		exit 0
	fi
fi

mkdir -p "$OUT" "$CACHE"
WORK=$(mktemp -d "$BUILD/image.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
S=$WORK/root
mkdir -p "$S"

# ---- packages ---------------------------------------------------------------

conf_lines() { grep -v '^[[:space:]]*\(#\|$\)' "$1"; }
kernel_meta=$(conf_lines images/packages.conf | awk '$2 == "@kernel" { print $1 }')
[ -n "$kernel_meta" ] || die "images/packages.conf: no @kernel package"
kernel_pkg=$(apt-cache depends "$kernel_meta" | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$kernel_pkg" ] || die "$kernel_meta: no linux-image dependency (run apt-get update?)"
mapfile -t prog_pkgs < <(conf_lines images/packages.conf | awk '$2 != "@kernel" { print $1 }')

# Every library package (Section: libs) these could need; only those whose
# sonames the shipped ELF files actually ask for end up in the image.
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${prog_pkgs[@]}" |
	grep -E '^[a-z0-9][^ ]*$' | sort -u)
mapfile -t lib_cands < <(apt-cache show --no-all-versions "${closure[@]}" 2>/dev/null |
	awk '/^Package:/ { p = $2 } /^Section:/ && $2 ~ /(^|\/)libs$/ { print p }' | sort -u)

declare -A VER DEB
while read -r p v; do VER[$p]=$v; done < <(pkg_versions "$kernel_pkg" "${prog_pkgs[@]}" "${lib_cands[@]}")

cached_deb() { # pkg -> path in the cache, or nothing
	local f
	for f in "$CACHE/${1}_${VER[$1]//:/%3a}_"*.deb; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}
missing=()
for p in "$kernel_pkg" "${prog_pkgs[@]}" "${lib_cands[@]}"; do
	[ -n "$(cached_deb "$p")" ] || missing+=("$p=${VER[$p]}")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "apt-get download: ${#missing[@]} packages into $CACHE"
	(cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >/dev/null) ||
		die "apt-get download ${missing[*]} failed"
fi
for p in "$kernel_pkg" "${prog_pkgs[@]}" "${lib_cands[@]}"; do
	DEB[$p]=$(cached_deb "$p")
	[ -n "${DEB[$p]}" ] || die "$p ${VER[$p]}: not in $CACHE after download"
done

declare -A USED # packages whose files are in the image
unpack() { # pkg -> its tree under $WORK/pkg/
	if [ ! -d "$WORK/pkg/$1" ]; then
		mkdir -p "$WORK/pkg/$1"
		dpkg-deb -x "${DEB[$1]}" "$WORK/pkg/$1" || die "unpacking ${DEB[$1]}"
	fi
	USED[$1]=1
}

# Absolute symlinks in the image point at the host: never follow them.
exists() { [ -L "$1" ] || [ -e "$1" ]; }

# Copies path (relative, inside pkg's tree) into the image, following
# symlinks within the package so that both link and target land.
take() {
	local pkg=$1 rel=$2 src t
	src=$WORK/pkg/$pkg/$rel
	[ -e "$src" ] || [ -L "$src" ] || die "$pkg: no $rel in the package"
	mkdir -p "$S/$(dirname "$rel")"
	cp -a "$src" "$S/$rel"
	if [ -L "$src" ]; then
		t=$(readlink "$src")
		case "$t" in
		/*) t=${t#/} ;;
		*) t=$(dirname "$rel")/$t ;;
		esac
		exists "$S/$t" || take "$pkg" "$t"
	fi
}

# ---- kernel and modules -------------------------------------------------------

unpack "$kernel_pkg"
K=$WORK/pkg/$kernel_pkg
kver=$(basename "$(ls -d "$K"/lib/modules/*)")
[ -f "$K/boot/vmlinuz-$kver" ] || die "$kernel_pkg: no boot/vmlinuz-$kver"

declare -A MODPATH
while read -r rel; do
	m=$(basename "$rel" .ko); MODPATH[${m//-/_}]=$rel
done <"$K/lib/modules/$kver/modules.order"
declare -A BUILTIN
while read -r rel; do
	m=$(basename "$rel" .ko); BUILTIN[${m//-/_}]=1
done <"$K/lib/modules/$kver/modules.builtin"

declare -A MOD_TAKEN
take_module() { # name: the module and its hard dependencies
	local m=${1//-/_} d
	[ -n "${MOD_TAKEN[$m]:-}" ] && return 0
	MOD_TAKEN[$m]=1
	[ -n "${BUILTIN[$m]:-}" ] && return 0
	[ -n "${MODPATH[$m]:-}" ] || die "module $m: not in $kernel_pkg"
	take "$kernel_pkg" "lib/modules/$kver/${MODPATH[$m]}"
	for d in $(modinfo -F depends "$K/lib/modules/$kver/${MODPATH[$m]}" | tr , ' '); do
		take_module "$d"
	done
}
mkdir -p "$S/etc/cadeia"
: >"$S/etc/cadeia/modules"
while read -r m when; do
	case "$when" in all|ovs|nft) ;; *) die "images/modules.conf: $m: bad column '$when'" ;; esac
	m=${m//-/_}
	take_module "$m"
	[ -n "${BUILTIN[$m]:-}" ] || echo "$m $when" >>"$S/etc/cadeia/modules"
done < <(conf_lines images/modules.conf)
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$K/lib/modules/$kver/$f" ] && take "$kernel_pkg" "lib/modules/$kver/$f"
done
depmod -b "$S" "$kver" || die "depmod -b $S $kver"

# The PVH entry point lets QEMU start the uncompressed ELF directly, which
# saves seconds of TCG decompression per boot; else boot the bzImage.
vmlinuz=$K/boot/vmlinuz-$kver
kernel_format=bzImage
off=$(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1 || true)
# xz stops at the end of its stream: tail's SIGPIPE is expected.
if [ -n "$off" ] && { tail -c +$((off + 1)) "$vmlinuz" || true; } |
	xz -dc --single-stream >"$WORK/vmlinux" 2>/dev/null &&
	readelf -n "$WORK/vmlinux" 2>/dev/null | grep -c 'Xen.*(0x00000012)' >/dev/null; then
	kernel_format=vmlinux-pvh
	vmlinuz=$WORK/vmlinux
fi

# ---- programs, busybox, libraries ---------------------------------------------

while read -r p files; do
	[ "$files" = @kernel ] && continue
	unpack "$p"
	for f in $files; do take "$p" "$f"; done
done < <(conf_lines images/packages.conf)

# Applet links, except where a real binary sits (called by full path).
while read -r a; do
	[ -e "$S/$a" ] || [ -L "$S/$a" ] && continue
	mkdir -p "$S/$(dirname "$a")"
	ln -s /bin/busybox "$S/$a"
done < <("$S/bin/busybox" --list-full)
[ -L "$S/bin/sh" ] || [ -e "$S/bin/sh" ] || ln -s busybox "$S/bin/sh"

install -D -m 0755 "$GUEST_BIN" "$S/usr/bin/cadeia-guest"
install -D -m 0755 "$STAGE_BIN" "$S/usr/bin/cadeia-stage"
install -D -m 0755 images/init "$S/init"

# soname -> "pkg path" from the candidates' file lists (cached per .deb).
declare -A SONAME
for p in "${lib_cands[@]}"; do
	idx=${DEB[$p]}.sonames
	if [ ! -f "$idx" ]; then
		dpkg-deb -c "${DEB[$p]}" | awk '{ print $6 }' |
			{ grep -E "^\./(usr/)?lib(64|/$MULTIARCH)?/[^/]*\.so(\.[0-9]+)*$" || true; } |
			sed 's|^\./||' >"$idx.tmp"
		mv "$idx.tmp" "$idx"
	fi
	while read -r path; do
		n=$(basename "$path")
		[ -n "${SONAME[$n]:-}" ] || SONAME[$n]="$p $path"
	done <"$idx"
done

have_lib() {
	local d
	for d in lib/$MULTIARCH usr/lib/$MULTIARCH lib64 lib usr/lib; do
		exists "$S/$d/$1" && return 0
	done
	return 1
}
# Fixed point: add what the ELF files ask for until nothing is missing.
while :; do
	added=0
	while read -r f; do
		interp=$({ readelf -l "$f" 2>/dev/null || true; } | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
		if [ -n "$interp" ] && ! exists "$S$interp"; then
			n=$(basename "$interp")
			[ -n "${SONAME[$n]:-}" ] || die "$f: interpreter $interp in no candidate package"
			read -r p _ <<<"${SONAME[$n]}"
			unpack "$p"; take "$p" "${interp#/}"; added=1
		fi
		for n in $({ readelf -d "$f" 2>/dev/null || true; } | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			have_lib "$n" && continue
			[ -n "${SONAME[$n]:-}" ] || die "${f#"$S"}: needs $n, in no candidate package"
			read -r p path <<<"${SONAME[$n]}"
			unpack "$p"; take "$p" "$path"; added=1
		done
	done < <(find "$S" -type f -perm -u+x -o -type f -name '*.so*' | sort)
	[ $added = 0 ] && break
done

# ---- the rest of the tree -----------------------------------------------------

mkdir -p "$S"/{dev,proc,sys,run,tmp,root,etc/openvswitch,var/log/openvswitch,var/lib}
ln -sfn /run "$S/var/run"
mknod -m 600 "$S/dev/console" c 5 1
mknod -m 666 "$S/dev/null" c 1 3
printf '/lib/%s\n/usr/lib/%s\n' "$MULTIARCH" "$MULTIARCH" >"$S/etc/ld.so.conf"
echo 'root:x:0:0:root:/root:/bin/sh' >"$S/etc/passwd"
echo 'root:x:0:' >"$S/etc/group"
: >"$S/etc/resolv.conf" # OVS warns without these two
echo '127.0.0.1 localhost' >"$S/etc/hosts"
ldconfig -X -r "$S" || die "ldconfig -r $S"

# ---- outputs, replaced atomically ---------------------------------------------

find "$S" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
tmp_initrd=$(mktemp "$OUT/.initrd.XXXXXX")
tmp_kernel=$(mktemp "$OUT/.vmlinuz.XXXXXX")
tmp_manifest=$(mktemp "$OUT/.manifest.XXXXXX")
tmp_inputs=$(mktemp "$OUT/.inputs.XXXXXX")
trap 'rm -rf "$WORK" "$tmp_initrd" "$tmp_kernel" "$tmp_manifest" "$tmp_inputs"' EXIT

(cd "$S" && find . -mindepth 1 | sed 's|^\./||' | sort |
	cpio -o -H newc --reproducible -R 0:0 --quiet) >"$WORK/initrd.cpio" || die "cpio of $S"
# Legacy frame format: the only lz4 flavour the kernel's unpacker reads.
lz4 -l -9 -q -f "$WORK/initrd.cpio" "$tmp_initrd" || die "lz4 $WORK/initrd.cpio"
cp "$vmlinuz" "$tmp_kernel"
chmod 644 "$tmp_initrd" "$tmp_kernel"

used_pkgs=("$kernel_meta" "${!USED[@]}")
inputs_text "${used_pkgs[@]}" >"$tmp_inputs"
inputs_sha=$(sha256sum <"$tmp_inputs" | cut -d' ' -f1)
size_initrd=$(stat -c %s "$tmp_initrd")
size_kernel=$(stat -c %s "$tmp_kernel")
size_cpio=$(stat -c %s "$WORK/initrd.cpio")
files=$(find "$S" -mindepth 1 | wc -l)
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
{
	echo "{"
	echo "  \"kernel_version\": \"$kver\","
	echo "  \"kernel_format\": \"$kernel_format\","
	echo "  \"inputs_sha256\": \"$inputs_sha\","
	echo "  \"packages\": {"
	awk '$1 == "pkg" { printf "%s    \"%s\": \"%s\"", sep, $2, $3; sep = ",\n" } END { print "" }' "$tmp_inputs"
	echo "  },"
	echo "  \"size_bytes\": { \"vmlinuz\": $size_kernel, \"initrd\": $size_initrd, \"initrd_uncompressed\": $size_cpio },"
	echo "  \"files\": $files,"
	echo "  \"build_seconds\": $secs,"
	echo "  \"built_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
	echo "}"
} >"$tmp_manifest"

# Inputs last: it is the stamp the next run compares against.
mv -f "$tmp_kernel" "$OUT/vmlinuz"
mv -f "$tmp_initrd" "$OUT/initrd.img"
mv -f "$tmp_manifest" "$OUT/manifest.json"
mv -f "$tmp_inputs" "$OUT/inputs.txt"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
log "built $OUT in ${secs} s: vmlinuz ($kernel_format) $(mib "$size_kernel"), initrd.img $(mib "$size_initrd") ($(mib "$size_cpio") uncompressed, $files files), kernel $kver, ${#used_pkgs[@]} packages"

# Record the measurement in the README, between its markers, when asked
# (IMAGE_RECORD=1): a plain build must not dirty the checkout it builds from.
# The same figures are always in $OUT/manifest.json.
readme=images/README.md
if [ "${IMAGE_RECORD:-0}" = 1 ] && grep -q '^<!-- measured:begin -->$' "$readme" 2>/dev/null; then
	line="Last build: $(date -u +%Y-%m-%d) on $(nproc) cores: ${secs} s, initrd.img $(mib "$size_initrd") ($(mib "$size_cpio") uncompressed, $files files), vmlinuz $(mib "$size_kernel") ($kernel_format), kernel $kver."
	awk -v line="$line" '
		/^<!-- measured:begin -->$/ { print; print line; skip = 1; next }
		/^<!-- measured:end -->$/ { skip = 0 }
		!skip { print }' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
fi
