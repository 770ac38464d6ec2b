# Sourced by scripts/static-curl.sh and scripts/static-zlib.sh: one build per key of inputs in
# $CACHE_ROOT/<key>, built once, then reused without touching the network.
#
#   cache_enter KEY     takes the cache's lock; when KEY is built already, prints its folder and
#                       exits 0. Otherwise sets PREFIX (where it will be) and WORK (a scratch
#                       folder, removed on exit).
#   cache_commit STAGE  moves the finished STAGE folder to PREFIX; builds of other keys unused
#                       for 30 days go.
# Also log and die, prefixed with the calling script's name (static-curl), which names its
# cache folder too: ${SORTIE_CACHE_DIR:-~/.cache/sortie}/<name>.

CACHE_NAME=$(basename "$0" .sh)
CACHE_ROOT="${SORTIE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sortie}/$CACHE_NAME"
log() { echo "$CACHE_NAME: $*" >&2; }
die() { echo "$CACHE_NAME: error: $*" >&2; exit 1; }

cache_enter() {
    PREFIX="$CACHE_ROOT/$1"
    mkdir -p "$CACHE_ROOT"
    exec 9>"$CACHE_ROOT/.lock"
    flock 9   # one build at a time; a second caller waits and then finds it cached
    if [[ -f "$PREFIX/.complete" ]]; then
        touch "$PREFIX"   # marks it in use for the pruning in cache_commit
        log "cached: $PREFIX"
        echo "$PREFIX"
        exit 0
    fi
    WORK=$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
}

cache_commit() {
    touch "$1/.complete"
    rm -rf "$PREFIX"
    mv "$1" "$PREFIX"
    find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 ! -name "$(basename "$PREFIX")" ! -name '.*' -mtime +30 -exec rm -rf {} + 2>/dev/null || true
}
