# Sourced by the scripts: make sure .venv in the checkout holds the project and its test tools.
# A fresh machine needs only python3 and git; the venv is rebuilt when pyproject.toml changes.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.wt-stamp"
# editable_mode=compat: the editable install is one path line in a .pth file. The default mode
# installs an import-hook finder that every Python start-up in this venv pays for (`python -I -c
# pass`: 23 ms of CPU instead of 10), which a regular install does not have.
EDITABLE_MODE=compat
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) editable=$EDITABLE_MODE"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    echo "scripts: setting up $VENV (one time)" >&2
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        python3 -m pip install --quiet --user virtualenv >&2
        python3 -m virtualenv --quiet "$VENV" >&2
    fi
    log="$VENV/.install.log"
    if ! "$VENV/bin/python" -m pip install \
        --config-settings editable_mode="$EDITABLE_MODE" -e "$ROOT[test]" >"$log" 2>&1; then
        cat "$log" >&2
        echo "scripts: installing into $VENV failed (log above)" >&2
        exit 1
    fi
    echo "$want" > "$STAMP"
fi
# An editable install leaves out data files: put the manual pages where `man` finds them from
# PATH ($VENV/bin -> $VENV/share/man), so that `git wt --help` works in this checkout too.
mkdir -p "$VENV/share/man/man1"
cp -f "$ROOT"/man/*.1 "$VENV/share/man/man1/"
export PATH="$VENV/bin:$PATH"
