/**
 * The freshness lifetime a response grants, in milliseconds, from `Cache-Control` (max-age, or no-store /
 * no-cache as zero). Undefined when the header says nothing about it.
 */
export function maxAgeMs(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  let result: number | undefined;
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2) as [string, string | undefined];
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined && /^\d+$/.test(value.replace(/"/g, ''))) {
      result = Number(value.replace(/"/g, '')) * 1000;
    }
  }
  return result;
}
