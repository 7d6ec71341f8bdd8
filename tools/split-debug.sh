#!/bin/sh
# split-debug.sh strip|remove DEBUGDIR FILE...
# strip: moves each FILE's debug information to DEBUGDIR/.build-id/xx/rest.debug
# (where gdb and debuginfod-style tools look for it by build-id) and strips
# FILE of everything a shared object or program does not need to run.
# remove: deletes the debug files of the FILEs that exist (for uninstall).
set -eu
mode=$1 debugdir=$2
shift 2
for file; do
    [ -e "$file" ] || continue
    id=$(readelf -n "$file" | awk '/Build ID:/ { print $3; exit }')
    if [ -z "$id" ]; then
        echo "split-debug: $file has no build-id note" >&2
        exit 1
    fi
    debug=$debugdir/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
    case $mode in
    strip)
        mkdir -p "$(dirname "$debug")"
        objcopy --only-keep-debug "$file" "$debug"
        chmod 0644 "$debug"
        strip --strip-unneeded --remove-section=.comment "$file"
        objcopy --add-gnu-debuglink="$debug" "$file"
        ;;
    remove) rm -f "$debug" ;;
    *) echo "usage: split-debug.sh strip|remove DEBUGDIR FILE..." >&2; exit 2 ;;
    esac
done
