/**
 * Whether a pinned SSH host key can be a real key. Pure.
 *
 * Terraform compares the key the server presents with `host_key`; a key that cannot parse fails
 * every connection at apply, after the roles exist. The public key format (RFC 4253 section 6.6,
 * RFC 5656 section 3.1, RFC 8709 section 4) is a base64 blob of length-prefixed fields that starts
 * with the key type's own name: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5..." decodes to
 * "\0\0\0\x0bssh-ed25519" and a 32-byte key. This checks the whole blob: the base64, the type name
 * inside it against the one written before it, and the fields that type has.
 */

export const HOST_KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const;

/** Reads RFC 4251 "string" and "mpint" fields: a uint32 length, then that many bytes. */
function fields(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    at += 4;
    if (at + length > blob.length) return undefined;
    out.push(blob.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** Uncompressed EC point sizes (0x04 || X || Y) per curve. */
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Why `key` ("<type> <base64>") is not a usable SSH public host key, or undefined when it is. */
export function hostKeyProblem(key: string): string | undefined {
  const [type, data, ...rest] = key.split(' ');
  if (rest.length > 0 || data === undefined) return 'must be "<key type> <base64>" with no comment, e.g. "ssh-ed25519 AAAAC3Nza..."';
  if (!(HOST_KEY_TYPES as readonly string[]).includes(type)) return `has key type ${JSON.stringify(type)}; allowed: ${HOST_KEY_TYPES.join(', ')}`;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) return 'is not valid base64 (as ssh-keyscan prints it: a multiple of 4 characters of A-Z a-z 0-9 + /, "=" only at the end)';
  const blob = Buffer.from(data, 'base64');
  if (blob.toString('base64') !== data) return 'is not valid base64 (it does not decode to what it says)';
  const parts = fields(blob);
  if (parts === undefined || parts.length === 0) return 'does not decode to an SSH public key (its length fields do not add up): copy the whole key from ssh-keyscan or /etc/ssh/ssh_host_*_key.pub';
  const inner = parts[0].toString('latin1');
  if (inner !== type) return `says ${type} but the key itself is ${/^[\x20-\x7e]{1,40}$/.test(inner) ? JSON.stringify(inner) : 'of no known type'}; write the type ssh-keyscan prints for it`;
  const ok =
    type === 'ssh-ed25519'
      ? parts.length === 2 && parts[1].length === 32
      : type === 'ssh-rsa'
        ? parts.length === 3 && parts[1].length > 0 && parts[2].length >= 128
        : parts.length === 3 && parts[1].toString('latin1') === type.slice('ecdsa-sha2-'.length) && parts[2].length === EC_POINT_BYTES[type.slice('ecdsa-sha2-'.length)];
  return ok ? undefined : `is not a complete ${type} key (wrong fields or sizes inside the base64): copy the whole key from ssh-keyscan or /etc/ssh/ssh_host_*_key.pub`;
}
