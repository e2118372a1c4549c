#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with one clear line.
# Looks for python3.13, python3.12, python3 on PATH (a pyenv shim that does not
# resolve is skipped), then for pyenv-installed versions under $(pyenv root)/versions.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for name in python3.13 python3.12 python3; do
  if command -v "$name" >/dev/null 2>&1 && ok "$name"; then
    command -v "$name"; exit 0
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for candidate in $(ls -d "$root"/versions/3.* 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/bin/python" ] && ok "$candidate/bin/python"; then
      echo "$candidate/bin/python"; exit 0
    fi
  done
fi
echo "error: no Python >= 3.12 found (looked for python3.13, python3.12, python3 on PATH and \$(pyenv root)/versions/3.*)" >&2
exit 1
