#!/usr/bin/env bash
# Builds berth's container image without a network, from what this machine already has: its Node
# runtime and the shared libraries it and the native addons link, the repository's node_modules
# (a pruned copy: production packages only), and the app compiled from the working tree. No base
# image is pulled: the image starts from scratch (buildah), so it holds only what berth runs.
# This is the image CI builds and tests (test/image/image.test.ts); the Dockerfile is the same
# image for people with a network and Docker Hub.
#
#   deploy/build-image.sh [--tag NAME]... [--output TRANSPORT:PATH] [--source URL]
#
#   --tag NAME      name the image in buildah's local storage (repeatable); default
#                   localhost/berth:VERSION and localhost/berth:latest (VERSION from package.json)
#   --output DEST   also write it there, e.g. oci-archive:berth.tar or docker-archive:berth.tar
#                   (`docker load -i berth.tar`)
#   --source URL    the org.opencontainers.image.source label; default $BERTH_IMAGE_SOURCE, else
#                   the git remote `origin`, else none
#
# Needs: buildah, and in the repository `npm ci` done (dev packages: tsc and vite build the app).
# buildah's storage is its usual one (containers-storage; CONTAINERS_STORAGE_CONF and the other
# containers/ variables apply). Only the first --tag and the image ID are printed on stdout.
#
# The image: ENTRYPOINT node /app/bin/berth.js, CMD serve (so `docker run IMAGE user add alice`
# runs the CLI, as does `berth` on its PATH); the config deploy/image-config.yml at /etc/berth/config.yml
# (REGISTRY_CONFIGURATION_PATH: data under /data, which env variables override), VOLUME /data owned by the
# non-root user berth (uid and gid 10001) it runs as, EXPOSE 5000, STOPSIGNAL SIGTERM.
set -euo pipefail

readonly UID_GID=10001
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tags=()
output=''
source_url="${BERTH_IMAGE_SOURCE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tags+=("${2:?--tag needs a name}"); shift 2 ;;
    --output) output="${2:?--output needs TRANSPORT:PATH}"; shift 2 ;;
    --source) source_url="${2:?--source needs a URL}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

started=$SECONDS
say() { printf 'build-image: [%3d s] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { say "$*"; exit 1; }

command -v buildah >/dev/null || die 'buildah is not installed (apt-get install buildah)'
[ -x node_modules/.bin/tsc ] && [ -x node_modules/.bin/vite ] || die 'node_modules has no tsc or vite: run npm ci first'
node_bin="$(command -v node)" || die 'node is not on PATH'
version="$(node -p 'require("./package.json").version')"
case "$(node -p process.arch)" in
  x64) arch=amd64 ;;
  arm64) arch=arm64 ;;
  *) die "no OCI architecture known for node's $(node -p process.arch)" ;;
esac
[ "${#tags[@]}" -gt 0 ] || tags=("localhost/berth:$version" "localhost/berth:latest")
if [ -z "$source_url" ]; then source_url="$(git remote get-url origin 2>/dev/null || true)"; fi
revision="$(git rev-parse HEAD 2>/dev/null || true)"
if [ -n "$revision" ] && [ -n "$(git status --porcelain -- src bin ui package.json package-lock.json 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
# The image's creation time: $SOURCE_DATE_EPOCH, else the commit's time if the tree is clean, else now
case "$revision" in
  '') epoch="${SOURCE_DATE_EPOCH:-$(date +%s)}" ;;
  *-dirty) epoch="${SOURCE_DATE_EPOCH:-$(date +%s)}" ;;
  *) epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" ;;
esac

stage="$(mktemp -d "${TMPDIR:-/tmp}/berth-image-XXXXXX")"
ctr=''
base=''
cleanup() {
  if [ -n "$ctr" ]; then buildah rm "$ctr" >/dev/null 2>&1 || true; fi
  if [ -n "$base" ]; then buildah rmi "$base" >/dev/null 2>&1 || true; fi
  rm -rf "$stage"
}
trap cleanup EXIT
runtime="$stage/runtime"
app="$stage/app"
mkdir -p "$app" "$runtime/usr/local/bin" "$runtime/etc/ssl/certs" "$runtime/etc/berth" "$runtime/tmp" "$stage/data"

say "compiling the app (tsc) and the web UI (vite) into $stage"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$app/dist"
node_modules/.bin/vite build --config ui/vite.config.ts --outDir "$app/ui/dist" --emptyOutDir --logLevel warn
cp -a bin package.json "$app/"

say 'production node_modules: a copy of ./node_modules, pruned (the repository is not touched)'
mkdir -p "$stage/deps/node_modules"
cp -a package.json package-lock.json "$stage/deps/"
cp -a node_modules/. "$stage/deps/node_modules/"
(cd "$stage/deps" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error >&2)
# better-sqlite3 was compiled here: keep its addon, not the sources and objects it was built from
sqlite="$stage/deps/node_modules/better-sqlite3"
[ -f "$sqlite/build/Release/better_sqlite3.node" ] || die 'node_modules/better-sqlite3 has no build/Release/better_sqlite3.node: run npm ci'
mv "$sqlite/build/Release/better_sqlite3.node" "$stage/better_sqlite3.node"
rm -rf "$sqlite/build" "$sqlite/deps" "$sqlite/src"
mkdir -p "$sqlite/build/Release"
mv "$stage/better_sqlite3.node" "$sqlite/build/Release/"
mv "$stage/deps/node_modules" "$app/node_modules"
if [ -f native/build/Release/berth_sendfile.node ]; then
  mkdir -p "$app/native/build/Release"
  cp native/build/Release/berth_sendfile.node "$app/native/build/Release/"
else
  say 'native/build/Release/berth_sendfile.node is not built: blob pulls will stream instead of sendfile(2)'
fi

say "the Node runtime ($node_bin, $(node -v)) and the libraries it and the addons link"
if command -v strip >/dev/null; then
  strip --strip-debug -o "$runtime/usr/local/bin/node" "$node_bin"
else
  cp -L "$node_bin" "$runtime/usr/local/bin/node"
fi
# /usr/bin/env, for bin/berth.js's "#!/usr/bin/env node": `docker exec CONTAINER berth user add alice`
env_bin="$(command -v env)"
mkdir -p "$runtime/usr/bin"
cp -L "$env_bin" "$runtime/usr/bin/env"
ln -s /app/bin/berth.js "$runtime/usr/local/bin/berth"
mapfile -t addons < <(find "$app" -name '*.node' -type f)
for file in "$node_bin" "$env_bin" "${addons[@]}"; do
  deps="$(ldd "$file")" || die "ldd $file failed: is it built for this machine?"
  if grep -q 'not found' <<<"$deps"; then die "$file links a library that is missing here:"$'\n'"$deps"; fi
  # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  sed -n -e 's/^.*=> \(\/[^ ]*\) (0x.*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*$/\1/p' <<<"$deps"
done | sort -u | while read -r lib; do
  cp -L --parents "$lib" "$runtime"
done

say '/etc: a berth user, name resolution from files then DNS, the CA bundle'
printf 'root:x:0:0:root:/root:/sbin/nologin\nberth:x:%s:%s:berth:/data:/sbin/nologin\n' "$UID_GID" "$UID_GID" >"$runtime/etc/passwd"
printf 'root:x:0:\nberth:x:%s:\n' "$UID_GID" >"$runtime/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$runtime/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$runtime/etc/ssl/certs/"
else
  say 'no /etc/ssl/certs/ca-certificates.crt here: the image has only the CAs built into Node'
fi
chmod 1777 "$runtime/tmp"
cp deploy/image-config.yml "$runtime/etc/berth/config.yml"

say 'assembling the image (buildah): a layer of runtime, a layer of app'
# Every file of a layer gets one timestamp (0 for the runtime, $epoch for the app), so the same
# files make the same layer digest: a new berth on the same Node pushes and pulls only the app.
ctr="$(buildah from --format oci scratch)"
buildah add --quiet "$ctr" "$runtime" / >/dev/null
buildah add --quiet --chown "$UID_GID:$UID_GID" "$ctr" "$stage/data" /data >/dev/null
base="$(buildah commit --quiet --rm --format oci --timestamp 0 "$ctr")"
ctr="$(buildah from --format oci "$base")"
buildah add --quiet "$ctr" "$stage/app" /app >/dev/null
labels=(
  --label "org.opencontainers.image.title=berth"
  --label "org.opencontainers.image.description=$(node -p 'require("./package.json").description')"
  --label "org.opencontainers.image.version=$version"
  --label "org.opencontainers.image.licenses=$(node -p 'require("./package.json").license')"
)
if [ -n "$source_url" ]; then labels+=(--label "org.opencontainers.image.source=$source_url"); fi
if [ -n "$revision" ]; then labels+=(--label "org.opencontainers.image.revision=$revision"); fi
buildah config \
  --os linux --arch "$arch" \
  --env PATH=/usr/local/bin:/usr/bin:/bin \
  --env NODE_ENV=production \
  --env REGISTRY_CONFIGURATION_PATH=/etc/berth/config.yml \
  --workingdir /app \
  --user "$UID_GID:$UID_GID" \
  --port 5000/tcp \
  --volume /data \
  --stop-signal SIGTERM \
  --entrypoint '["/usr/local/bin/node", "/app/bin/berth.js"]' \
  --cmd '["serve"]' \
  "${labels[@]}" \
  "$ctr"
id="$(buildah commit --quiet --rm --format oci --timestamp "$epoch" "$ctr" "${tags[0]}")"
ctr=''
buildah rmi "$base" >/dev/null
base=''
for tag in "${tags[@]:1}"; do buildah tag "$id" "$tag"; done
if [ -n "$output" ]; then
  say "writing $output"
  buildah push --quiet "$id" "$output" >&2
fi
say "built ${tags[*]} ($id)"
printf '%s\n%s\n' "${tags[0]}" "$id"
