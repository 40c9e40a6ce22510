/**
 * When two spellings of an Aspera host are the same host, and which spellings are refused. Pure.
 *
 * The SSH client (Terraform's, like OpenSSH) resolves names with the system resolver, which also
 * reads the old inet_aton forms as IPv4 addresses: "0x7f.0.0.1", "0177.0.0.1", "127.1" and
 * "2130706433" all mean 127.0.0.1. A config that writes one of those hides which machine it
 * configures from the reviewer, and escapes the duplicate-host check: such spellings are refused,
 * with the dotted-quad form to write instead. The WHATWG URL host parser implements exactly these
 * IPv4 forms (and canonical IPv6 text, RFC 5952), so it is the oracle here.
 */

/**
 * The IPv4 address a name made of numbers stands for when it is not written as one ("0x7f.0.0.1",
 * "10.1", "2130706433", "127.0.0.1."), or undefined: a plain name, a dotted quad, or no address.
 */
export function disguisedIpv4(host: string): string | undefined {
  const lastLabel = host.replace(/\.$/, '').split('.').pop() ?? '';
  // A name whose last label is a number (decimal, octal or 0x hex) is read as an IPv4 address.
  if (!/^(0x[0-9a-f]*|\d+)$/i.test(lastLabel)) return undefined;
  try {
    const parsed = new URL(`http://${host.replace(/\.$/, '')}`).hostname;
    return parsed === host ? undefined : parsed;
  } catch {
    return undefined;
  }
}

/**
 * Why a host name that passed the hostname grammar is an unusual IPv4 spelling, or undefined when
 * it is a plain name or a dotted-quad address.
 */
export function ipv4SpellingProblem(host: string): string | undefined {
  const lastLabel = host.replace(/\.$/, '').split('.').pop() ?? '';
  if (!/^(0x[0-9a-f]*|\d+)$/i.test(lastLabel)) return undefined;
  const address = disguisedIpv4(host);
  if (address !== undefined) return `is an unusual spelling of the IPv4 address ${address}; write it as "${address}"`;
  if (/^[\d.]+$/.test(host) && host.split('.').length === 4) return undefined;
  return 'ends in a number, so resolvers read it as an IPv4 address, but it is not one; write the address as four decimal numbers, e.g. "203.0.113.10"';
}

/** An IPv6 address as text (the schema's IPv6 check has passed). */
const isIpv6 = (host: string): boolean => host.includes(':');

/**
 * One spelling per host, for finding duplicates: names lowercased without a trailing dot, IPv6
 * addresses in their canonical form, and IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) as the IPv4
 * address they reach.
 */
export function canonicalHost(host: string): string {
  if (isIpv6(host)) {
    let canonical: string;
    try {
      canonical = new URL(`http://[${host}]`).hostname.slice(1, -1);
    } catch {
      return host.toLowerCase();
    }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (mapped === null) return canonical;
    const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return host.toLowerCase().replace(/\.$/, '');
}
