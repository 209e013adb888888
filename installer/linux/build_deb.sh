#!/usr/bin/env bash
# Package the frozen program (installer/build_frozen.sh) as a .deb for Debian, 统信UOS and 银河麒麟.
#
#   installer/linux/build_deb.sh [--app dist/govshare-desktop] [--out dist] [--version V] [--fast]
#
# --fast: gzip -1 instead of xz (a larger file in a few seconds instead of a minute; for tests).
# Layout: the program in /opt/govshare-desktop, `govshare` and `govshare-desktop` on PATH
# (/usr/bin symlinks), a desktop entry and icon. The package owns nothing in users' homes: the
# database, its key file and backups (~/.local/share/govshare-desktop) stay on removal and purge.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
app="$root/dist/govshare-desktop"
out="$root/dist"
version=""
compress=(-Zxz)
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --fast) compress=(-Zgzip -z1); shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -x "$app/govshare-desktop" ] || { echo "no frozen program in $app (run installer/build_frozen.sh)" >&2; exit 1; }
[ -n "$version" ] || version="$("$app/govshare" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
mkdir -p "$out"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

install -d "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/doc/govshare-desktop" "$stage/DEBIAN"
cp -a "$app" "$stage/opt/govshare-desktop"
ln -s /opt/govshare-desktop/govshare-desktop "$stage/usr/bin/govshare-desktop"
ln -s /opt/govshare-desktop/govshare "$stage/usr/bin/govshare"
install -m 644 "$root/resources/icons/govshare.png" \
  "$stage/usr/share/icons/hicolor/256x256/apps/govshare-desktop.png"
install -m 644 "$here/govshare-desktop.desktop" "$stage/usr/share/applications/"
install -m 644 "$here/copyright" "$stage/usr/share/doc/govshare-desktop/"
for script in postinst postrm; do install -m 755 "$here/$script" "$stage/DEBIAN/"; done

# Bundled by PyInstaller: Python, Qt and their libraries. What the system must still provide
# (read off the bundle with ldd): the C library, and OpenGL/EGL, fontconfig and X11 keyboard
# support as every desktop has them.
installed_kb=$(du -sk "$stage/opt" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: govshare-desktop
Version: $version
Architecture: $arch
Maintainer: govshare-desktop <govshare-desktop@localhost>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.31), libgl1, libegl1, libfontconfig1, libdbus-1-3, libxkbcommon0
Recommends: fonts-wqy-microhei | fonts-arphic-uming | fonts-noto-cjk, cups-client
Section: misc
Priority: optional
Homepage: https://example.invalid/govshare-desktop
Description: 乡镇政务数据共享桌面端 (govshare-desktop)
 The township end of government data sharing under State Council Decree 809:
 back-flowed household-registry and social-security data in a local encrypted
 database, 一表通 reports filled once, official Excel and PDF forms, and
 signed exchange packages. Works offline.
CONTROL

deb="$out/govshare-desktop_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${compress[@]}" --build "$stage" "$deb" >/dev/null
echo "$deb $(du -h "$deb" | cut -f1) (installed $(( installed_kb / 1024 )) MB)"
