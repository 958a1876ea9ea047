/**
 * JSON.parse keeps the last of two equal keys, so `{"amount":1,"amount":19999}` means one thing
 * to us and maybe another to whoever signed, logged or checked it first. We refuse such bodies.
 */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
}

/** Parses JSON text, refusing an object that names one key twice. Throws SyntaxError for bad JSON. */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // Valid JSON from here on, so the scan below only has to find where objects and keys are.
  if (text.indexOf('{') !== -1) findDuplicateKey(text);
  return value;
}

function findDuplicateKey(text: string): void {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.has(key)) throw new DuplicateKeyError(`duplicate key "${key.slice(0, 64)}"`);
        top.add(key);
      }
      expectKey = false;
      i = end;
    } else if (char === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (char === '[') {
      stack.push(null);
      expectKey = false;
    } else if (char === '}' || char === ']') {
      stack.pop();
      expectKey = false;
    } else if (char === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
}

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
