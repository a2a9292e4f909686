import { serve, type Logger, type NatsConnection, type Subscription } from '@berth/service-kit';
import type { PreviewLinks } from './preview-links.js';

/** Share links of preview URLs (the proxying itself is the gateway's). */
export function servePreviewHandlers(d: { nc: NatsConnection; links: PreviewLinks; logger: Logger }): Subscription[] {
  return [
    serve(d.nc, 'previewLinkCreate', (req) => d.links.create(req.id, req.owner, req.port, req.expiresInSeconds), d.logger),
    serve(d.nc, 'previewLinkResolve', (req) => d.links.resolve(req.secret), d.logger),
    serve(d.nc, 'previewLinkRevoke', (req) => d.links.revoke(req.id, req.owner, req.previewId), d.logger),
  ];
}
