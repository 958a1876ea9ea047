/**
 * `GET /docs`: the OpenAPI document rendered by Swagger UI, served from our own `swagger-ui-dist`
 * (npm), nothing from another origin. The page's script is a file of its own, so the page runs
 * under a Content-Security-Policy without inline scripts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const INIT = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api', deepLinking: true });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Payment pipeline: merchant API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="api"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'";

/** Swagger UI's files, read from swagger-ui-dist on the first visit (most gateways never serve /docs). */
let files: Map<string, { type: string; body: string }> | undefined;
function docsFiles(): Map<string, { type: string; body: string }> {
  if (files) return files;
  const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
  const read = (name: string, type: string) => ({ type, body: readFileSync(join(dist, name), 'utf8') });
  files = new Map([
    ['swagger-ui.css', read('swagger-ui.css', 'text/css; charset=utf-8')],
    ['swagger-ui-bundle.js', read('swagger-ui-bundle.js', 'text/javascript; charset=utf-8')],
    ['init.js', { type: 'text/javascript; charset=utf-8', body: INIT }],
  ]);
  return files;
}

export function registerApiDocs(app: FastifyInstance): void {
  app.get('/docs', async (_request, reply) =>
    reply.header('content-security-policy', CSP).type('text/html; charset=utf-8').send(PAGE),
  );
  app.get<{ Params: { name: string } }>('/docs/:name', async (request, reply) => {
    const file = docsFiles().get(request.params.name);
    if (!file) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such file' } });
    return reply.header('cache-control', 'public, max-age=3600').type(file.type).send(file.body);
  });
}
