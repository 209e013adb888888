#!/usr/bin/env bash
# Upgrade check: install the package of an earlier release into a clean dpkg root, let it make
# a township database, install this version's package over it, and check that the data is still
# there and the new program works on it; then remove the package and check the data stays.
#
#   installer/linux/check_upgrade.sh NEW.deb [--from v0.1.0]
#
# The earlier release is checked out from its git tag and frozen with this tree's spec.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$(dirname "$here")")"
new_deb="$(realpath "$1")"; shift
tag="v0.1.0"
while [ $# -gt 0 ]; do
  case "$1" in
    --from) tag="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"
cleanup() { git -C "$root" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# v0.1.0 is commit baaab25 (stop 9); a clone without tags still finds it by its hash.
if ! git -C "$root" rev-parse -q --verify "$tag^{commit}" >/dev/null; then
  [ "$tag" = "v0.1.0" ] && tag=baaab25 || { echo "no such release: $tag" >&2; exit 2; }
fi
echo "== building $tag"
git -C "$root" worktree add --detach "$work/src" "$tag" >/dev/null
"$root/installer/build_frozen.sh" --source "$work/src" --dist "$work/old" --no-smoke
"$here/build_deb.sh" --app "$work/old/govshare-desktop" --out "$work"
old_deb="$(ls "$work"/govshare-desktop_*.deb)"

dpkg_root="$work/root"
mkdir -p "$dpkg_root/var/lib/dpkg/info" "$dpkg_root/var/lib/dpkg/updates"
touch "$dpkg_root/var/lib/dpkg/status" "$dpkg_root/var/lib/dpkg/available"
# (the clean root has no libc6 etc. registered: --force-depends; the bundle runs on this system's)
dpkg_() {
  dpkg --root="$dpkg_root" --force-script-chrootless --force-depends "$@" >"$work/dpkg.log" 2>&1 \
    || { cat "$work/dpkg.log" >&2; return 1; }
}
installed() { dpkg-query --root="$dpkg_root" -W -f='${Version}' govshare-desktop; }
export HOME="$work/home" GOVSHARE_ADMIN_PASSWORD='Guanli#2026upg' GOVSHARE_USER=admin \
  GOVSHARE_PASSWORD='Guanli#2026upg' LANG=C.UTF-8
mkdir -p "$HOME"
app="$dpkg_root/opt/govshare-desktop"

echo "== installing $(basename "$old_deb"), making a township with it"
dpkg_ -i "$old_deb"
"$app/govshare" demo --households 40 >/dev/null
GOVSHARE_NEW_PASSWORD='Start#2026upg' "$app/govshare" users add clerk --role clerk >/dev/null
GOVSHARE_USER=clerk GOVSHARE_PASSWORD='Start#2026upg' GOVSHARE_NEW_PASSWORD='Jingban#2026upg' \
  "$app/govshare" passwd >/dev/null
before="$("$app/govshare" info | grep -v '^数据库\|^磁盘加密')"  # (0.2.0 adds 磁盘加密)

echo "== upgrading to $(basename "$new_deb") (installed: $(installed))"
dpkg_ -i "$new_deb"
echo "installed: $(installed)"
after="$("$app/govshare" info | grep -v '^数据库\|^磁盘加密')"
[ "$before" = "$after" ] || { echo "data differs after the upgrade:"; diff <(echo "$before") <(echo "$after"); exit 1; }
"$app/govshare" audit verify
GOVSHARE_USER=clerk GOVSHARE_PASSWORD='Jingban#2026upg' \
  "$app/govshare-desktop" --smoke --db "$HOME/.local/share/govshare-desktop/govshare.db" 2>/dev/null

echo "== removing and purging the package"
dpkg_ --purge govshare-desktop
[ ! -e "$app" ] || { echo "program folder left behind: $app"; exit 1; }
ls "$HOME/.local/share/govshare-desktop/govshare.db" "$HOME/.local/share/govshare-desktop/govshare.db.keys" >/dev/null
echo "upgrade check passed: $tag -> $(basename "$new_deb"); data kept through upgrade and purge"
