/** `GET /healthz`: the process is alive and answering HTTP. */
import { Controller, type RouteTable } from '../router/router.js';

export class HealthController extends Controller {
  routes(table: RouteTable): void {
    table.get('/', (ctx) => {
      ctx.res.setHeader('cache-control', 'no-store');
      ctx.text(200, 'ok\n');
    });
  }
}
