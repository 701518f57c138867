#!/bin/sh
# skeleton_check.sh DOC INCLUDE_DIR WORK_DIR TEST_PLUGIN CC [CC ARGS...]
#
# Compiles the plugin skeleton of docs/plugin.md (the ```c block after the
# "<!-- skeleton -->" marker) against the ABI header alone, as strict C99,
# then loads it through the plugin target.  The doc's code is the code
# tested: it cannot go stale.
set -eu
doc=$1 inc=$2 work=$3 test_plugin=$4
shift 4
mkdir -p "$work"
awk '/<!-- skeleton -->/ { marked = 1; next }
     marked && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$doc" > "$work/skeleton.c"
if [ ! -s "$work/skeleton.c" ]; then
	echo "no \`\`\`c block after <!-- skeleton --> in $doc"
	exit 1
fi
echo "skeleton: $(wc -l < "$work/skeleton.c") lines"
"$@" -std=c99 -pedantic -Wall -Wextra -Werror -fPIC -shared -I "$inc" \
	"$work/skeleton.c" -o "$work/libskeleton.so"
exec "$test_plugin" skeleton "$work/libskeleton.so"
