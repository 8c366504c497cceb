#!/usr/bin/env bash
# make lint: cppcheck (flags below, .cppcheck-suppressions) and clang-tidy (.clang-tidy, relaxed
# by tests/.clang-tidy and bench/.clang-tidy) over every tracked C file, two at a time. Any
# finding fails. clang-tidy gets the Makefile's compile flags per file (after --) instead of a
# compile database, so nothing has to record a build first. Usage: .ci/lint.sh [FILE.c ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export LINT_TIDY=${CLANG_TIDY:-clang-tidy}
LINT_CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude -I. $(pkg-config --cflags hiredis msgpack uuid jansson)"
export LINT_CFLAGS
jobs=${LINT_JOBS:-2}
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files '*.c'); fi
echo "lint: cppcheck over ${#files[@]} files"
cppcheck --quiet -j"$jobs" --error-exitcode=1 --enable=warning,style,performance,portability \
  --inline-suppr --std=c11 -D_GNU_SOURCE --suppressions-list=.cppcheck-suppressions \
  -Iinclude -I. "${files[@]}"
echo "lint: clang-tidy over ${#files[@]} files"
# LINT_CFLAGS unquoted on purpose: one word per flag. stderr holds only "N warnings generated".
# shellcheck disable=SC2016
printf '%s\n' "${files[@]}" | xargs -P"$jobs" -n4 sh -c '"$LINT_TIDY" --quiet "$@" -- $LINT_CFLAGS 2>/dev/null' _
echo "lint: clean"
