#!/usr/bin/env bash
# Ask the real Claude Code client what it does with each plugin fixture and
# compare with tests/fixtures/plugins/expected.tsv, so the fixtures can be
# re-checked whenever the client changes.
#
# For each folder tests/fixtures/plugins/CASE/ it runs, offline (empty HOME, a
# loopback stand-in for the model API, a dummy key):
#   claude plugin validate CASE            -> pass / fail (exit status)
#   claude --plugin-dir CASE -p hi         -> the plugin agents it lists to
#                                             the model (names with a `:`)
# and prints `CASE<TAB>validate<TAB>agents` (agents sorted, comma-separated,
# `-` for none). With --write it rewrites expected.tsv instead of diffing.
#
# Usage: scripts/plugin-verdicts.sh [--write] [CASE...]
# The client: $MIGRATION_CREATOR_CLAUDE, else .tools/claude-code/ (what
# scripts/test-all.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."
write=0
if [ "${1:-}" = "--write" ]; then write=1; shift; fi
claude=${MIGRATION_CREATOR_CLAUDE:-$PWD/.tools/claude-code/node_modules/.bin/claude}
"$claude" --version | grep -q '^2\.1\.332 ' || { echo "no Claude Code 2.1.332 at $claude" >&2; exit 2; }
fixtures=$PWD/tests/fixtures/plugins
if [ $# -eq 0 ]; then
  set -- $(cd "$fixtures" && for d in */; do echo "${d%/}"; done)
fi
set -- $(printf '%s\n' "$@" | LC_ALL=C sort -u)
work=$(mktemp -d)
port_file=$work/port
mkdir -p "$work/home" "$work/project" "$work/cap"
python3 - "$work/cap" "$port_file" <<'PY' &
import http.server, json, os, sys
out, port_file = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(os.path.join(out, f"req{len(os.listdir(out))}.json"), "wb") as f:
            f.write(body)
        msg = b'{"type":"error","error":{"type":"invalid_request_error","message":"captured"}}'
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)
    def do_GET(self):
        self.send_response(404)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(cat "$port_file")

client() {
  HOME=$work/home ANTHROPIC_BASE_URL=http://127.0.0.1:$port ANTHROPIC_API_KEY=sk-test \
    DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    timeout 120 "$claude" "$@" </dev/null
}

# The plugin agents ("plugin:agent: description") listed in captured requests.
agents() {
  python3 - "$work/cap" <<'PY'
import json, os, re, sys
names = set()
for f in os.listdir(sys.argv[1]):
    try:
        blob = json.load(open(os.path.join(sys.argv[1], f)))
    except ValueError:
        continue
    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)
        elif isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
    for s in strings(blob):
        i = s.find("Available agent types")
        if i < 0:
            continue
        for line in s[i:].split("\n")[1:]:
            m = re.match(r"- (.+?): ", line)
            if m:
                names.add(m.group(1))
            elif names:
                break
print(",".join(sorted(n for n in names if ":" in n)) or "-")
PY
}

out=$work/actual.tsv
version=$("$claude" --version | cut -d' ' -f1)
printf '# Claude Code %s: what it does with each plugin (scripts/plugin-verdicts.sh --write)\n' "$version" > "$out"
printf 'case\tvalidate\tagents\n' >> "$out"
for case in "$@"; do
  dir=$fixtures/$case
  if client plugin validate "$dir" >/dev/null 2>&1; then v=pass; else v=fail; fi
  rm -f "$work/cap"/*
  (cd "$work/project" && client --plugin-dir "$dir" -p hi >/dev/null 2>&1 || true)
  printf '%s\t%s\t%s\n' "$case" "$v" "$(agents)" >> "$out"
done
if [ $write = 1 ]; then
  cp "$out" "$fixtures/expected.tsv"
  cat "$out"
elif diff -u <(grep -E "^(#|(case|$(IFS='|'; echo "$*"))	)" "$fixtures/expected.tsv") "$out"; then
  echo "the client agrees with expected.tsv ($# cases)" >&2
else
  echo "the client differs from expected.tsv (above: - expected, + the client)" >&2
  exit 1
fi
