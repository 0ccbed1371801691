/**
 * Hosts for tests, made of Linux network namespaces: each host is a namespace with one address on
 * a private /24, joined by a veth pair to a bridge in the root namespace (which holds the .1
 * address, so the test itself reaches every host). Names carry a per-run tag, so two runs never
 * share a namespace or a link, and `remove` takes away everything this object made, whatever
 * state a failed test left it in. docs/deploy-netns.sh builds the same shape from a shell.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** How long one `ip` command may take; they are quick, unless the machine is very loaded. */
export const IP_COMMAND_TIMEOUT_MS = 20_000;
/** Subnets tried before giving up on finding one no route of this machine covers. */
const SUBNET_DRAWS_MAX = 50;
/** Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
const INTERFACE_NAME_BYTES_MAX = 15;

/** Runs `ip ...args`; rejects with its stderr on a non-zero exit. */
export function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: IP_COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Whether this process may make namespaces: root, with iproute2 installed. */
export async function canMakeNamespaces(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root (ip netns add)';
  const probe = `pcprobe${randomBytes(3).toString('hex')}`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['netns', 'del', probe]);
    return null;
  } catch (err) {
    return `cannot make a network namespace: ${(err as Error).message}`;
  }
}

/** The first three octets of a 10.77.X.0/24 that no route of this machine covers yet. */
export async function freeSubnet(): Promise<string> {
  for (let draw = 0; draw < SUBNET_DRAWS_MAX; draw++) {
    const candidate = `10.77.${10 + Math.floor(Math.random() * 240)}`;
    const routes = await ip(['-4', 'route', 'show', 'match', `${candidate}.0/24`]);
    if (!routes.split('\n').some((line) => line.startsWith(`${candidate}.`))) return candidate;
  }
  throw new Error(`no free 10.77.X.0/24 after ${SUBNET_DRAWS_MAX} draws`);
}

export interface NetnsHost {
  name: string;
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  address: string;
  /** The root namespace's end of the host's veth pair: down cuts the host off. */
  veth: string;
}

export class NetnsHosts {
  /** Short per-run tag at the front of every name. */
  readonly tag = `p${randomBytes(2).toString('hex')}`;
  readonly bridge = `${this.tag}br`;
  private subnet = '';
  private readonly hosts = new Map<string, NetnsHost>();
  private bridgeMade = false;

  /** The bridge's address in the root namespace: where hosts reach the test. */
  get rootAddress(): string {
    return `${this.subnet}.1`;
  }

  /** Makes the bridge on a subnet 10.77.X.0/24 that no route of this machine covers yet. */
  async createBridge(): Promise<void> {
    this.subnet = await freeSubnet();
    await ip(['link', 'add', this.bridge, 'type', 'bridge']);
    this.bridgeMade = true;
    await ip(['addr', 'add', `${this.rootAddress}/24`, 'dev', this.bridge]);
    await ip(['link', 'set', this.bridge, 'up']);
  }

  /** Makes host `name` (a few letters) at `<subnet>.<octet>`. */
  async addHost(name: string, octet: number): Promise<NetnsHost> {
    const veth = `${this.tag}v${name}`;
    if (veth.length > INTERFACE_NAME_BYTES_MAX) throw new Error(`host name ${name} is too long for an interface name`);
    const host: NetnsHost = { name, ns: `penncloud-${this.tag}-${name}`, address: `${this.subnet}.${octet}`, veth };
    this.hosts.set(name, host);
    await ip(['netns', 'add', host.ns]);
    await ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    await ip(['link', 'set', veth, 'master', this.bridge, 'up']);
    await ip(['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
    await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  host(name: string): NetnsHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name}`);
    return host;
  }

  /** The launcher that runs a command inside host `name`. */
  launcher(name: string): string[] {
    return ['ip', 'netns', 'exec', this.host(name).ns];
  }

  /** Cuts host `name` off the network (up: false) or joins it again. */
  async setLink(name: string, up: boolean): Promise<void> {
    await ip(['link', 'set', this.host(name).veth, up ? 'up' : 'down']);
  }

  /** Removes every namespace, veth and the bridge made here; what is already gone is skipped. */
  async remove(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (args: string[], gone: () => Promise<boolean>): Promise<void> => {
      try {
        await ip(args);
      } catch (err) {
        if (!(await gone())) problems.push((err as Error).message);
      }
    };
    for (const host of this.hosts.values()) {
      // Deleting the namespace deletes its end of the pair and with it the pair.
      await attempt(['netns', 'del', host.ns], async () => !(await namespaceExists(host.ns)));
      await attempt(['link', 'del', host.veth], async () => !(await linkExists(host.veth)));
    }
    if (this.bridgeMade) await attempt(['link', 'del', this.bridge], async () => !(await linkExists(this.bridge)));
    this.hosts.clear();
    this.bridgeMade = false;
    if (problems.length > 0) throw new Error(`could not remove: ${problems.join('; ')}`);
  }

  /** Names of this run's namespaces and links still present (empty after `remove`). */
  async leftovers(): Promise<string[]> {
    const names = `${await ip(['netns', 'list'])}\n${await ip(['-o', 'link', 'show'])}`;
    return [...new Set(names.match(new RegExp(`[\\w-]*${this.tag}[\\w-]*`, 'g')) ?? [])];
  }
}

async function namespaceExists(name: string): Promise<boolean> {
  // `ip netns list` prints one namespace a line: its name, then maybe " (id: N)".
  return (await ip(['netns', 'list'])).split('\n').some((line) => line.split(' ')[0] === name);
}

async function linkExists(name: string): Promise<boolean> {
  try {
    await ip(['link', 'show', name]);
    return true;
  } catch {
    return false;
  }
}
