/**
 * The dispatcher: the one address users know. Every HTTP request is answered with a redirect to
 * a live frontend, same path and query (301 by design, `Cache-Control: no-store`, so a browser
 * asks again next time and never sticks to a dead frontend). Frontends announce themselves with
 * UDP heartbeats on the same port number.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { HttpLimitsConfig } from '../../conf/config.js';
import { dispatcherSecurityFields } from '../http/security-fields.js';
import { HttpServer, type ListenAddress } from '../http/server.js';
import type { HttpRequest, HttpResponse } from '../http/types.js';
import { decodeHeartbeat } from '../protocol/frontend-heartbeat.js';
import { RefusalLog, type Logger } from '../protocol/log.js';
import { FrontendRegistry, type DispatchPolicy, type FrontendEntry } from './frontend-registry.js';

export interface DispatcherOptions {
  host: string;
  port: number;
  policy: DispatchPolicy;
  redirectStatus: number;
  frontendTimeoutMs: number;
  /** The frontends of the configuration: the only ids heard, each only with its own URL. */
  frontends: { id: number; publicUrl: string }[];
  /** The cluster secret heartbeats are signed with. */
  secret: Buffer;
  httpLimits: HttpLimitsConfig;
  logger: Logger;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: Buffer; cert: Buffer };
  /** Randomness for the random policy and tie-breaks; Math.random unless a test seeds it. */
  random01?: () => number;
}

const NO_FRONTEND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PennCloud is unavailable</title></head>
<body><h1>PennCloud is unavailable</h1>
<p>No frontend is running right now. Please try again in a moment.</p></body></html>
`;

export class Dispatcher {
  readonly registry: FrontendRegistry;
  private readonly http: HttpServer;
  private readonly udp: UdpSocket;
  private readonly random01: () => number;
  /** The send time of the last heartbeat taken from each frontend: an older one is a replay. */
  private readonly lastSentAtMs = new Map<number, number>();
  /** Bad heartbeats cost a stranger nothing to send: their warnings are capped. */
  private readonly refusals: RefusalLog;

  constructor(private readonly options: DispatcherOptions) {
    this.registry = new FrontendRegistry(options.frontendTimeoutMs);
    this.random01 = options.random01 ?? Math.random;
    this.refusals = new RefusalLog((m, f) => options.logger.warn(m, f));
    this.http = new HttpServer({
      name: 'dispatcher',
      handler: (req, res) => this.handle(req, res),
      limits: options.httpLimits,
      logger: options.logger,
      defaultFields: dispatcherSecurityFields({ secure: options.tls !== undefined }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    this.udp = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
    this.udp.on('message', (datagram, from) => this.onHeartbeat(datagram, `${from.address}:${from.port}`));
    this.udp.on('error', (err) => options.logger.warn('heartbeat socket error', { err }));
  }

  /** Opens the HTTP listener and the heartbeat socket. */
  async start(): Promise<ListenAddress> {
    const address = await this.http.listen(this.options.port, this.options.host);
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind(address.port, this.options.host, () => {
        this.udp.off('error', reject);
        resolve();
      });
    });
    return address;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
    await this.http.close();
  }

  private onHeartbeat(datagram: Buffer, from: string): void {
    try {
      const nowMs = Date.now();
      const beat = decodeHeartbeat(datagram, this.options.secret, nowMs);
      const configured = this.options.frontends.find((f) => f.id === beat.id);
      if (configured === undefined) throw new Error(`frontend ${beat.id} is not in the configuration`);
      if (configured.publicUrl !== beat.url) throw new Error(`frontend ${beat.id} claimed ${beat.url}, not its configured ${configured.publicUrl}`);
      if (beat.sentAtMs <= (this.lastSentAtMs.get(beat.id) ?? 0)) throw new Error(`frontend ${beat.id}: a heartbeat no later than the last one (replayed?)`);
      this.lastSentAtMs.set(beat.id, beat.sentAtMs);
      if (beat.stopping === true) {
        if (this.registry.forget(beat.id)) this.options.logger.info('frontend stopping', { id: beat.id });
        return;
      }
      const known = this.registry.alive(Date.now()).some((e) => e.id === beat.id);
      this.registry.heartbeat(beat.id, beat.url, beat.connections, Date.now());
      if (!known) this.options.logger.info('frontend alive', { id: beat.id, url: beat.url });
    } catch (err) {
      this.refusals.warn('ignored a bad heartbeat', { from, problem: (err as Error).message });
    }
  }

  private handle(req: HttpRequest, res: HttpResponse): void {
    res.setHeader('cache-control', 'no-store');
    if (req.path === '/healthz') {
      // The dispatcher's own liveness: answered here, never redirected.
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('ok\n');
      return;
    }
    const target = this.registry.choose(this.options.policy, Date.now(), this.random01);
    if (target === undefined) {
      res.status = 503;
      res.setHeader('retry-after', '1');
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(NO_FRONTEND_PAGE);
      return;
    }
    const location = redirectLocation(target, req);
    res.status = this.options.redirectStatus;
    res.setHeader('location', location);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Moved</title><a href="${escapeHtml(location)}">${escapeHtml(location)}</a>\n`);
  }
}

/** The same path and query on the chosen frontend. */
export function redirectLocation(target: FrontendEntry, req: Pick<HttpRequest, 'path' | 'query'>): string {
  const path = req.path === '*' || req.path === '' ? '/' : req.path;
  return `${target.url}${path}${req.query === '' ? '' : `?${req.query}`}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
