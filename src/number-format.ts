/**
 * "10,240": a whole number with comma thousands separators, as en-US writes it, for messages.
 * Not toLocaleString('en-US'): its first call loads ICU's locale data, about 20 ms of CPU on
 * every synth, before any config has been read.
 */
export function withThousands(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`withThousands: ${value} is not a whole number`);
  return String(value).replace(/\B(?=(\d{3})+$)/g, ',');
}
