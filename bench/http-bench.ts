/**
 * `npm run bench:http`: our HTTP server against a plain node:http server returning the same
 * bytes, in one run, with the same load generator (wrk when installed, else autocannon):
 *   1. keep-alive small GETs: requests/s of each and the ratio (target >= 1.3x);
 *   2. a 1 GiB upload streamed over one connection and discarded: MiB/s and ratio (>= 0.8x).
 * Each server runs in its own child process, so the load generator never shares its event loop.
 * Rounds alternate between the servers and the best of each is kept, to damp noise from a shared
 * machine; the server CPU time per request and per GiB (from /proc) is printed too, as it
 * depends far less on what else the machine is running.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNodeServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setLogLevel } from '../lib/protocol/log.js';
import { HttpServer } from '../lib/http/server.js';

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonResult {
  requests: { total: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: {
  url: string; connections: number; duration: number; pipelining: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const GET_BODY = 'Hello from PennCloud!\n';
const GET_CONNECTIONS = 50;
const GET_WARMUP_SECONDS = 2;
const GET_ROUND_SECONDS = 6;
const GET_ROUNDS = 3;
const UPLOAD_BYTES = 1024 * 1024 * 1024;
const UPLOAD_CHUNK_BYTES = 1024 * 1024;
const UPLOAD_ROUNDS = 3;
/** Bound on one upload: even a slow machine moves 1 GiB over loopback well within this. */
const UPLOAD_TIMEOUT_MS = 120_000;
/** Bound on a server child printing its port. */
const READY_TIMEOUT_MS = 15_000;
const GET_TARGET_RATIO = 1.3;
const UPLOAD_TARGET_RATIO = 0.8;
const MIB = 1024 * 1024;

type Kind = 'ours' | 'node';

/** Child mode: serve until killed. */
async function serve(kind: Kind): Promise<void> {
  setLogLevel('silent');
  let port: number;
  if (kind === 'ours') {
    const server = new HttpServer({
      name: 'bench',
      // Every load-generator connection comes from 127.0.0.1: lift the per-address cap.
      limits: {
        bodyBytesMax: 4 * UPLOAD_BYTES, requestsPerConnectionMax: 1_000_000_000,
        connectionsPerClientMax: GET_CONNECTIONS,
      },
      handler: (req, res) => {
        if (req.path === '/upload') {
          let count = 0;
          const body = req.body;
          body.on('data', (chunk: Buffer) => { count += chunk.length; });
          return new Promise<void>((resolve) => {
            body.on('end', () => {
              res.end(String(count));
              resolve();
            });
          });
        }
        res.setHeader('Content-Type', 'text/plain');
        res.end(GET_BODY);
        return undefined;
      },
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  } else {
    const length = Buffer.byteLength(GET_BODY);
    const server = createNodeServer((req, res) => {
      if (req.url === '/upload') {
        let count = 0;
        req.on('data', (chunk: Buffer) => { count += chunk.length; });
        req.on('end', () => res.end(String(count)));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': length });
      res.end(GET_BODY);
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  }
  process.stdout.write(`READY ${port}\n`);
}

interface Child {
  process: ChildProcess;
  port: number;
}

function startChild(kind: Kind): Promise<Child> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start`)), READY_TIMEOUT_MS);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ process: child, port: Number(match[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

function haveWrk(): boolean {
  try {
    execFileSync('which', ['wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function measureGets(port: number, seconds: number, useWrk: boolean): Promise<number> {
  const url = `http://127.0.0.1:${port}/hello`;
  if (useWrk) {
    const out = execFileSync('wrk', ['-t1', `-c${GET_CONNECTIONS}`, `-d${seconds}s`, url]).toString();
    const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (match === null) throw new Error(`cannot read wrk output:\n${out}`);
    return Number(match[1]);
  }
  const result = await autocannon({ url, connections: GET_CONNECTIONS, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`load run on port ${port} saw ${result.non2xx} non-2xx and ${result.errors} errors`);
  }
  return result.requests.total / seconds;
}

/** Streams UPLOAD_BYTES over one connection; returns MiB/s from first byte to the reply. */
function measureUpload(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(UPLOAD_CHUNK_BYTES, 0x61);
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('upload timed out'));
    }, UPLOAD_TIMEOUT_MS);
    let started = 0;
    let sent = 0;
    let reply = '';
    const pump = (): void => {
      while (sent < UPLOAD_BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('connect', () => {
      started = performance.now();
      socket.write(`POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: ${UPLOAD_BYTES}\r\n\r\n`);
      pump();
    });
    socket.on('data', (data: Buffer) => {
      reply += data.toString('latin1');
      const end = reply.indexOf('\r\n\r\n');
      if (end >= 0 && reply.endsWith(String(UPLOAD_BYTES))) {
        const seconds = (performance.now() - started) / 1000;
        clearTimeout(timer);
        socket.destroy();
        resolve(UPLOAD_BYTES / MIB / seconds);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function verdict(ratio: number, target: number): string {
  return ratio >= target ? 'met' : 'NOT met';
}

function row(cells: string[]): string {
  const widths = [30, 12, 12, 8, 9, 8];
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' ');
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a child has used, in ms; NaN where /proc is not available. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Best rate and total server CPU of each server over alternating rounds. */
interface Tally {
  best: number;
  work: number;
  cpuMs: number;
}

async function measureRounds(
  label: string, rounds: number, children: Record<Kind, Child>,
  measure: (port: number) => Promise<{ rate: number; work: number }>,
): Promise<Record<Kind, Tally>> {
  const kinds: Kind[] = ['ours', 'node'];
  const tally: Record<Kind, Tally> = {
    ours: { best: 0, work: 0, cpuMs: 0 }, node: { best: 0, work: 0, cpuMs: 0 },
  };
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
      const pid = children[kind].process.pid;
      const before = cpuMs(pid);
      const { rate, work } = await measure(children[kind].port);
      tally[kind].cpuMs += cpuMs(pid) - before;
      tally[kind].work += work;
      tally[kind].best = Math.max(tally[kind].best, rate);
      process.stderr.write(`  ${label} round ${round + 1} ${kind}: ${rate.toFixed(0)}\n`);
    }
  }
  return tally;
}

function cost(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(1);
}

async function main(): Promise<void> {
  const useWrk = haveWrk();
  const children = { ours: await startChild('ours'), node: await startChild('node') };
  try {
    for (const kind of ['ours', 'node'] as const) {
      await measureGets(children[kind].port, GET_WARMUP_SECONDS, useWrk);
    }
    const gets = await measureRounds('GET req/s', GET_ROUNDS, children, async (port) => {
      const rate = await measureGets(port, GET_ROUND_SECONDS, useWrk);
      return { rate, work: rate * GET_ROUND_SECONDS };
    });
    const uploads = await measureRounds('upload MiB/s', UPLOAD_ROUNDS, children, async (port) => {
      const rate = await measureUpload(port);
      return { rate, work: UPLOAD_BYTES / (1024 * MIB) };
    });
    const getRatio = gets.ours.best / gets.node.best;
    const uploadRatio = uploads.ours.best / uploads.node.best;
    // Server CPU per unit of work: steadier than rates on a shared machine.
    const getCpu = (t: Tally): number => (t.cpuMs * 1000) / t.work; // us per request
    const uploadCpu = (t: Tally): number => t.cpuMs / t.work; // ms per GiB
    const tool = useWrk ? 'wrk' : 'autocannon';
    console.log(`\nHTTP benchmark: ${tool}, ${GET_CONNECTIONS} keep-alive connections, best of `
      + `${GET_ROUNDS} x ${GET_ROUND_SECONDS}s; 1 GiB upload over one connection, best of ${UPLOAD_ROUNDS}`);
    console.log(row(['measure', 'ours', 'node:http', 'ratio', 'target', 'result']));
    console.log(row(['small GET (requests/s)', gets.ours.best.toFixed(0), gets.node.best.toFixed(0),
      `${getRatio.toFixed(2)}x`, `>=${GET_TARGET_RATIO}x`, verdict(getRatio, GET_TARGET_RATIO)]));
    console.log(row(['1 GiB upload (MiB/s)', uploads.ours.best.toFixed(0), uploads.node.best.toFixed(0),
      `${uploadRatio.toFixed(2)}x`, `>=${UPLOAD_TARGET_RATIO}x`, verdict(uploadRatio, UPLOAD_TARGET_RATIO)]));
    console.log(row(['server CPU per GET (us)', cost(getCpu(gets.ours)), cost(getCpu(gets.node)),
      `${(getCpu(gets.node) / getCpu(gets.ours)).toFixed(2)}x`, '', '(info)']));
    console.log(row(['server CPU per GiB upload (ms)', cost(uploadCpu(uploads.ours)), cost(uploadCpu(uploads.node)),
      `${(uploadCpu(uploads.node) / uploadCpu(uploads.ours)).toFixed(2)}x`, '', '(info)']));
  } finally {
    children.ours.process.kill();
    children.node.process.kill();
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  await serve(process.argv[serveAt + 1] as Kind);
} else {
  await main();
}
