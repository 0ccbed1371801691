import { expect } from 'chai';
import { connect } from 'node:net';
import { closeAll, eventually, RawClient, startServer } from './wire-client.js';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** A promise with its resolver, for a handler the test finishes by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('http server: graceful shutdown', () => {
  afterEach(closeAll);

  it('closes idle connections at once, finishes in-flight requests, then resolves', async () => {
    const release = gate();
    let started = false;
    const { server, port } = await startServer(async (req, res) => {
      if (req.path === '/slow') {
        started = true;
        await release.promise;
      }
      res.end(`done ${req.path}`);
    });
    const idle = await RawClient.connect(port);
    idle.write(GET('/quick'));
    await idle.responses(1);
    const busy = await RawClient.connect(port);
    busy.write(GET('/slow'));
    await eventually(() => started, 'the slow handler to start');
    expect(server.connectionCount).to.equal(2);

    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    await idle.waitClosed();
    expect(closed).to.equal(false);
    // No new connection is accepted while shutting down.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => resolve(true));
      socket.on('close', () => resolve(true));
    });
    expect(refused).to.equal(true);

    release.open();
    const [response] = await busy.responses(1);
    expect(response!.body.toString()).to.equal('done /slow');
    expect(response!.headers.connection).to.equal('close');
    await busy.waitClosed();
    await closing;
    expect(server.connectionCount).to.equal(0);
  });

  it('cuts requests still running after the shutdown grace period', async () => {
    const never = gate();
    const { server, port } = await startServer(async (_req, res) => {
      await never.promise;
      res.end('late');
    }, { shutdownGraceMs: 100 });
    const client = await RawClient.connect(port);
    client.write(GET('/stuck'));
    await eventually(() => server.connectionCount === 1, 'the connection');
    await server.close();
    await client.waitClosed();
    expect(client.received.length).to.equal(0);
    never.open();
  });
});
