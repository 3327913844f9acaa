/**
 * 32-bit FNV-1a: a stable, well-spread number for a name, so the same sandbox, load
 * balancer or instance always starts its search for a free port or address at the same
 * place and different ones rarely collide.
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
