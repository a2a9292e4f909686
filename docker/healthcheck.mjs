/* global process, fetch, AbortSignal */
// The image's HEALTHCHECK: GET /health of this service on the port its own config reads.
const ports = {
  gateway: ['BERTH_PORT', 8080],
  'pool-manager': ['HEALTH_PORT', 9101],
  'log-streamer': ['LOG_STREAMER_HEALTH_PORT', 9102],
  'repo-cache': ['REPO_CACHE_HEALTH_PORT', 9103],
  'image-builder': ['IMAGE_BUILDER_HEALTH_PORT', 9104],
  egress: ['EGRESS_HEALTH_PORT', 9105],
};
const [name, fallback] = ports[process.env.BERTH_SERVICE ?? ''] ?? ['HEALTH_PORT', 9101];
const port = process.env[name] || fallback;
fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
