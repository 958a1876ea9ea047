/**
 * Stripe's request encoding, read the way Stripe reads it: `application/x-www-form-urlencoded`
 * (and query strings) with nested objects in brackets and arrays indexed
 * (`line_items[0][price_data][currency]=usd`, `expand[]=payment_intent`).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

/** `a[b][0][c]` → `['a', 'b', '0', 'c']`; throws for a malformed key. */
function keyPath(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) throw new Error(`malformed parameter name ${key}`);
  return [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1]!)];
}

export function parseForm(text: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = keyPath(key);
    let node: Record<string, FormValue> | FormValue[] = root;
    for (let index = 0; index < path.length; index += 1) {
      const last = index === path.length - 1;
      let part = path[index]!;
      if (Array.isArray(node)) part = part === '' ? String(node.length) : part;
      const nextIsArray = !last && /^\d*$/.test(path[index + 1]!);
      const container = node as Record<string, FormValue>;
      if (last) {
        container[part] = value;
      } else {
        container[part] ??= nextIsArray ? [] : {};
        node = container[part] as Record<string, FormValue> | FormValue[];
      }
    }
  }
  return root;
}
