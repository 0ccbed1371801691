/**
 * Liveness and readiness of a frontend:
 *   GET /healthz  the process is alive and answering HTTP (200 "ok")
 *   GET /readyz   it can serve users: the store answers (200 "ready"), or 503 saying why not
 */
import { Controller, type RouteTable } from '../router/router.js';

/** What readiness asks: resolves when the store answers, rejects (with the reason) otherwise. */
export type ReadinessCheck = () => Promise<void>;

export class HealthController extends Controller {
  constructor(private readonly ready?: ReadinessCheck) {
    super();
  }

  routes(table: RouteTable): void {
    table.get('/healthz', (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.text(200, 'ok\n');
    });
    table.get('/readyz', async (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      if (this.ready === undefined) {
        ctx.text(200, 'ready\n');
        return;
      }
      try {
        await this.ready();
        ctx.text(200, 'ready\n');
      } catch (err) {
        ctx.text(503, `not ready: ${(err as Error).message}\n`);
      }
    });
  }
}
