// A tiny static server for the task pane: serves addin/web/ under /addin/ like the portal
// will, plus /addin/config.json. Binds 127.0.0.1 on a free port.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const CONTENT_SECURITY_POLICY =
  "script-src 'self' https://appsforoffice.microsoft.com; object-src 'none'; base-uri 'self'; form-action 'none'";

export async function startStaticServer({ webRoot, config }) {
  const root = resolve(webRoot);
  const requests = [];
  const state = { failConfig: false };
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://127.0.0.1').pathname);
    requests.push(path);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (path === '/addin/config.json') {
      if (state.failConfig) {
        response.writeHead(503).end();
        return;
      }
      response.writeHead(200, { 'Content-Type': types['.json'], 'Cache-Control': 'no-store' });
      response.end(JSON.stringify(config));
      return;
    }
    const file = resolve(root, `.${path.replace(/^\/addin\//, '/')}`);
    if (!path.startsWith('/addin/') || !(file + sep).startsWith(root + sep) && file !== root) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const headers = { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' };
      // The same policy the portal sends (portal/Addin/AddinEndpoints.cs), so the pane is tested under it.
      if (extname(file) === '.html') headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
      response.writeHead(200, headers);
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    state,
    close: () => new Promise((done) => server.close(done)),
  };
}
