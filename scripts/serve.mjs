// Tiny static server for the demo and the browser tests (node:http, no dependency):
//   /                        -> www/
//   /pkg/                    -> pkg/ (the built package)
//   /vendor/livekit-client/  -> node_modules/livekit-client/dist/
// Correct MIME types (application/wasm lets compileStreaming run), no caching (a rebuilt
// package is picked up on reload). Binds 127.0.0.1 unless HOST says otherwise: localhost is a
// secure context, which AudioWorklet and getUserMedia require.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.wav': 'audio/wav',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.tflite': 'application/octet-stream',
};

/** URL prefix -> directory (relative to root), longest prefix first. */
function mounts(root) {
  return [
    ['/vendor/livekit-client/', join(root, 'node_modules/livekit-client/dist')],
    ['/pkg/', join(root, 'pkg')],
    ['/', join(root, 'www')],
  ];
}

function resolvePath(table, pathname) {
  for (const [prefix, dir] of table) {
    if (pathname === prefix.slice(0, -1)) return { redirect: prefix };
    if (!pathname.startsWith(prefix)) continue;
    const file = normalize(join(dir, pathname.slice(prefix.length)));
    // No escaping the mounted directory with ../ or encoded separators.
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    return { file };
  }
  return null;
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Starts the server; resolves once it listens. `port` 0 picks a free port. `handle(req, res,
 * pathname)`: the browser tests' own routes (test pages, generated fixtures), answered first
 * when it returns true. `headers(pathname)`: extra response headers (cross-origin isolation).
 * `extraMounts`: more [URL prefix ('/x/'), absolute directory] pairs, matched first (test builds).
 * @returns {Promise<{ server: import('node:http').Server, port: number, url: string, close(): Promise<void> }>}
 */
export async function startServer({ port = 8080, host = '127.0.0.1', root = ROOT, handle = null, headers = null, extraMounts = [] } = {}) {
  const table = [...extraMounts, ...mounts(root)];
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    if (handle && await handle(req, res, pathname)) return;
    const target = resolvePath(table, pathname);
    if (!target) return send(res, 404, 'not found');
    if (target.redirect) {
      res.writeHead(301, { location: target.redirect, 'cache-control': 'no-store' });
      return res.end();
    }
    let file = target.file;
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info?.isFile()) return send(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-store',
      ...headers?.(pathname),
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actual = server.address().port;
  return {
    server,
    port: actual,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await startServer({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
    // CSP='…' npm start: the demo under a Content-Security-Policy.
    headers: process.env.CSP ? () => ({ 'content-security-policy': process.env.CSP }) : null,
  });
  console.log(`visio-media-effects demo: ${url} (package at ${url}pkg/)`);
}
