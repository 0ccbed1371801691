/**
 * The address a role's outgoing connections and datagrams leave from. A host with several
 * addresses (a machine on two networks, or one with aliases) would otherwise send from whichever
 * the kernel's routing picks, which need not be the one the configuration names for the role:
 * peers would see a stranger's address, and firewall rules written for the configured addresses
 * would refuse it. So a role binds its side of every connection to its configured host, when that
 * host is an IP address and the target is reachable from it.
 */
import { isIP } from 'node:net';

/** Whether `host` is the wildcard address (every address of the host), IPv4 or IPv6. */
export function isWildcardHost(host: string): boolean {
  if (isIP(host) === 4) return host.split('.').every((octet) => Number(octet) === 0);
  if (isIP(host) === 6) return /^[0:]+$/.test(host);
  return false;
}

/** Whether `host` is a loopback address or name. */
export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The local address to bind before connecting to `targetHost`, for a role configured at
 * `ownHost`; undefined lets the kernel choose. It chooses when the own host is a name (node binds
 * only to addresses), the wildcard, or of another family than the target, and when one of the two
 * is loopback and the other is not (a loopback address reaches no other machine).
 */
export function sourceAddressFor(ownHost: string | undefined, targetHost: string): string | undefined {
  if (ownHost === undefined || isIP(ownHost) === 0 || isWildcardHost(ownHost)) return undefined;
  const targetFamily = isIP(targetHost);
  if (targetFamily !== 0 && targetFamily !== isIP(ownHost)) return undefined;
  if (isLoopbackAddress(ownHost) !== isLoopbackAddress(targetHost)) return undefined;
  return ownHost;
}
