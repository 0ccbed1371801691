/**
 * Where mail for a domain goes (RFC 5321 §5.1): its MX hosts in order of preference, or the
 * domain itself when it has no MX record; each host's IPv4 addresses. Asked of the configured
 * DNS server with dns2.
 */
import DNS from 'dns2';
import { PennError } from '../protocol/errors.js';

/** How long one DNS question may take. */
export const DNS_TIMEOUT_MS = 5_000;
/** MX hosts tried for one domain at most. */
export const MX_HOSTS_MAX = 10;

export interface MailHost {
  host: string;
  priority: number;
  addresses: string[];
}

export class MxLookup {
  private readonly resolve: DNS.DnsResolver;

  constructor(server: { host: string; port: number }) {
    this.resolve = DNS.UDPClient({ dns: server.host, port: server.port, timeout: DNS_TIMEOUT_MS } as DNS.UdpClientOptions);
  }

  /** The hosts to try for `domain`, best first. UNAVAILABLE when DNS does not answer. */
  async hostsFor(domain: string): Promise<MailHost[]> {
    const mx = await this.ask(domain, 'MX');
    const records = mx.answers
      .filter((a) => a.type === DNS.Packet.TYPE.MX && typeof a.exchange === 'string')
      .map((a) => ({ host: (a.exchange as string).replace(/\.$/, ''), priority: Number(a.priority ?? 0) }))
      .sort((a, b) => a.priority - b.priority)
      .slice(0, MX_HOSTS_MAX);
    // RFC 5321 §5.1: no MX record means the domain itself is the mail host.
    const targets = records.length > 0 ? records : [{ host: domain, priority: 0 }];
    const hosts: MailHost[] = [];
    for (const t of targets) hosts.push({ ...t, addresses: await this.addresses(t.host) });
    return hosts.filter((h) => h.addresses.length > 0);
  }

  private async addresses(host: string): Promise<string[]> {
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return [host];
    const a = await this.ask(host, 'A');
    return a.answers.filter((r) => r.type === DNS.Packet.TYPE.A && typeof r.address === 'string').map((r) => r.address as string);
  }

  private async ask(name: string, type: 'MX' | 'A'): Promise<DNS.Packet> {
    try {
      return await this.resolve(name, type);
    } catch (err) {
      throw new PennError('UNAVAILABLE', `DNS lookup of ${type} ${name} failed: ${(err as Error).message}`);
    }
  }
}
