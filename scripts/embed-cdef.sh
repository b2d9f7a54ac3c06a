#!/usr/bin/env bash
# Emits a C file holding the FFI block of the public header (the lines between
# "ffi-begin" and "ffi-end") as one string, which dlrun hands to ffi.cdef.
# Keeping the header the single source means the Lua side cannot drift from it.
set -euo pipefail
header=$1
echo '/* Generated from native_ops/dl_native.h by scripts/embed-cdef.sh. Do not edit. */'
echo 'const char dl_native_cdef[] ='
awk '/\/\* ffi-end \*\//{on=0} on{gsub(/\\/,"\\\\"); gsub(/"/,"\\\""); print "  \"" $0 "\\n\""} /\/\* ffi-begin \*\//{on=1}' "$header"
echo ';'
