#!/usr/bin/env bash
# Drives the real CIMS UI (github.com/Mirzohiddev006/cognilabs-cims) in headless Chromium against a
# fresh `crm-server seed-demo`. Not part of CI (it needs the UI's checkout, which CI cannot fetch).
#
#   tests/browser/cims-workspace.sh /path/to/a/scratch/checkout/of/cognilabs-cims
#
# The checkout is a scratch copy: its `@audio-ui/react` dependency (unpublished) is pointed at a
# small stub and a vite config proxying `/api` to our server is written beside its own.
# Needs node + npm and Debian's chromium (`apt-get install chromium`). Screenshots land in $WORK.
set -euo pipefail
UI_DIR=$(cd "${1:?path to a scratch checkout of cognilabs-cims}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/cims-browser-run}
API_PORT=${API_PORT:-3301}
UI_PORT=${UI_PORT:-5199}
mkdir -p "$WORK/stub" "$WORK/driver"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== the UI, with a stub for @audio-ui/react"
cat > "$WORK/stub/package.json" <<'JSON'
{ "name": "@audio-ui/react", "version": "0.0.7", "main": "index.js", "types": "index.d.ts", "peerDependencies": { "react": "*" } }
JSON
cat > "$WORK/stub/index.js" <<'JS'
import { createElement, forwardRef } from 'react'
const part = (name) => Object.assign(forwardRef(function Part(props, ref) {
  const { value, bufferedValue, onValueChange, min, max, orientation, ...rest } = props
  return createElement('div', { ...rest, ref, 'data-part': name, 'data-orientation': orientation || 'horizontal' })
}), { displayName: name })
const family = (prefix) => Object.fromEntries(
  ['Root', 'Slider', 'Track', 'Range', 'BufferedRange', 'Thumb', 'ThumbInner', 'ThumbMark'].map((p) => [p, part(`${prefix}.${p}`)]))
export const Transport = family('Transport')
export const Fader = family('Fader')
JS
cat > "$WORK/stub/index.d.ts" <<'TS'
type Part = import('react').ForwardRefExoticComponent<any>
type Family = Record<'Root' | 'Slider' | 'Track' | 'Range' | 'BufferedRange' | 'Thumb' | 'ThumbInner' | 'ThumbMark', Part>
export declare namespace Fader { type RootProps = any }
export declare const Transport: Family
export declare const Fader: Family
TS
cat > "$UI_DIR/vite.crm-server.config.ts" <<TS
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import tailwindcss from '@tailwindcss/vite'
import { resolve } from 'path'
const api = { target: 'http://127.0.0.1:$API_PORT', changeOrigin: true, rewrite: (p: string) => p.replace(/^\/api/, '') }
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { '@': resolve(__dirname, './src') } },
  preview: { port: $UI_PORT, strictPort: true, proxy: { '/api': api } },
})
TS
(cd "$UI_DIR" && npm pkg set "dependencies.@audio-ui/react=file:$WORK/stub" && rm -f package-lock.json \
  && npm install --no-audit --no-fund --loglevel=error && npx vite build -c vite.crm-server.config.ts --logLevel error)

echo "== the server, fresh, with the demo data"
(cd "$ROOT" && cargo build -q -p crm-server --bin crm-server)
rm -f "$WORK"/crm.db*
export DATABASE_URL="sqlite://$WORK/crm.db" PORT=$API_PORT ADMIN_EMAIL=boss@example.com ADMIN_PASSWORD=Tashkent-Sunrise-4821
"$ROOT/target/debug/crm-server" seed-demo > "$WORK/seed.log" 2>&1
grep -E '^(demo data|sales manager|CIMS|call-center)' "$WORK/seed.log"
MANAGERS=$(sed -n 's/^sales manager \(.*\) \/ \(.*\)$/\1:\2/p' "$WORK/seed.log" | paste -sd, -)
"$ROOT/target/debug/crm-server" > "$WORK/server.log" 2>&1 & pids+=($!)
(cd "$UI_DIR" && exec npx vite preview -c vite.crm-server.config.ts > "$WORK/ui.log" 2>&1) & pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$UI_PORT/api/health/ready" > /dev/null && break; sleep 0.2; done

echo "== driving it"
cp "$ROOT/tests/browser/cims-workspace.mjs" "$WORK/driver/"
(cd "$WORK/driver" && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --loglevel=error playwright-core; })
python3 -c "
import math, struct, wave
w = wave.open('$WORK/call.wav', 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b''.join(struct.pack('<h', int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(16000)))"
UI_URL="http://127.0.0.1:$UI_PORT" CEO_EMAIL=$ADMIN_EMAIL CEO_PASSWORD=$ADMIN_PASSWORD MANAGERS=$MANAGERS \
  WAV_FILE="$WORK/call.wav" SHOTS_DIR="$WORK" node "$WORK/driver/cims-workspace.mjs"
