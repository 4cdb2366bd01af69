#!/usr/bin/env bash
# Refresh the vendored front-end builds under static/vendor/ from the npm registry.
# No build step: the pages load these files as they are, the way LNbits extensions ship.
# Bump a version here, run `bash scripts/vendor.sh`, look at the pages, commit.
set -euo pipefail

VUE=3.5.45
QUASAR=2.34.0
QUASAR_EXTRAS=2.1.0
NOSTR_TOOLS=2.25.2
QRCODE=2.0.4
SWAGGER_UI=5.36.0
REDOC=2.5.4

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# unpack NAME@VERSION DIR: npm pack into the temp dir and extract to $WORK/DIR.
unpack() {
  local spec="$1" dir="$2" tarball
  tarball="$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)"
  mkdir -p "$WORK/$dir"
  tar -xzf "$WORK/$tarball" -C "$WORK/$dir" --strip-components=1
}

unpack "vue@$VUE" vue
unpack "quasar@$QUASAR" quasar
unpack "@quasar/extras@$QUASAR_EXTRAS" extras
unpack "nostr-tools@$NOSTR_TOOLS" nostr-tools
unpack "qrcode-generator@$QRCODE" qrcode
unpack "swagger-ui-dist@$SWAGGER_UI" swagger-ui
unpack "redoc@$REDOC" redoc

rm -rf "$DEST"
mkdir -p "$DEST"/{vue,quasar,material-icons/web-font,nostr-tools,qrcode-generator,swagger-ui,redoc}

cp "$WORK/vue/dist/vue.global.prod.js" "$WORK/vue/LICENSE" "$DEST/vue/"
cp "$WORK/quasar/dist/quasar.umd.prod.js" "$WORK/quasar/dist/quasar.prod.css" \
  "$WORK/quasar/LICENSE" "$DEST/quasar/"
cp "$WORK/extras/exports/material-icons/material-icons.css" \
  "$WORK/extras/exports/material-icons/LICENSE" "$DEST/material-icons/"
cp "$WORK"/extras/exports/material-icons/web-font/*.woff2 "$DEST/material-icons/web-font/"
# The bundle's source map is 1 MB and only for debugging: drop it and its reference.
sed '/^\/\/# sourceMappingURL=/d' "$WORK/nostr-tools/lib/nostr.bundle.js" \
  >"$DEST/nostr-tools/nostr.bundle.js"
cp "$WORK/nostr-tools/LICENSE" "$DEST/nostr-tools/"
# qrcode-generator ships no LICENSE file; its MIT notice is in the head of qrcode.js.
cp "$WORK/qrcode/dist/qrcode.js" "$DEST/qrcode-generator/"
# /docs and /redoc (api/docs.py): the bundles drop their source-map references.
sed '/^\/\/# sourceMappingURL=/d' "$WORK/swagger-ui/swagger-ui-bundle.js" \
  >"$DEST/swagger-ui/swagger-ui-bundle.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' "$WORK/swagger-ui/swagger-ui.css" \
  >"$DEST/swagger-ui/swagger-ui.css"
cp "$WORK/swagger-ui/LICENSE" "$DEST/swagger-ui/"
# Redoc's "API docs by Redocly" footer loads a logo from cdn.redoc.ly: an empty image instead.
sed 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22/%3E#' \
  "$WORK/redoc/bundles/redoc.standalone.js" >"$DEST/redoc/redoc.standalone.js"
cp "$WORK/redoc/LICENSE" "$DEST/redoc/"
chmod -R u+rwX,go+rX "$DEST"

cat >"$DEST/VERSIONS" <<VERSIONS
vue $VUE (dist/vue.global.prod.js)
quasar $QUASAR (dist/quasar.umd.prod.js, dist/quasar.prod.css)
@quasar/extras $QUASAR_EXTRAS (material-icons web font)
nostr-tools $NOSTR_TOOLS (lib/nostr.bundle.js, exposes window.NostrTools)
qrcode-generator $QRCODE (dist/qrcode.js, exposes window.qrcode)
swagger-ui-dist $SWAGGER_UI (swagger-ui-bundle.js, swagger-ui.css: /docs)
redoc $REDOC (bundles/redoc.standalone.js: /redoc)
VERSIONS
echo "vendored into $DEST:"
cat "$DEST/VERSIONS"
