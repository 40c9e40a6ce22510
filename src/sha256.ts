/** The SHA-256 of a text (UTF-8) in hex: script hashes in triggers, short name suffixes, the External ID's digest in outputs. */
import { createHash } from 'node:crypto';

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
