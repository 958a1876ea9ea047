/**
 * Text to GBK bytes, as Alipay writes its bills. Node decodes GBK (`TextDecoder('gbk')`, full ICU)
 * but encodes only UTF-8: the encoding table is the decoder's, inverted once (every two-byte GBK
 * code decoded, ~22,000 of them).
 */
let table: Map<number, number> | null = null;

function encodingTable(): Map<number, number> {
  if (table) return table;
  const decoder = new TextDecoder('gbk');
  table = new Map();
  const pair = Buffer.alloc(2);
  for (let lead = 0x81; lead <= 0xfe; lead += 1)
    for (let trail = 0x40; trail <= 0xfe; trail += 1) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      const text = decoder.decode(pair);
      if (text.length === 1 && text !== '\uFFFD' && !table.has(text.charCodeAt(0)))
        table.set(text.charCodeAt(0), (lead << 8) | trail);
    }
  return table;
}

/** Refuses a character GBK cannot write (an emoji, say): a bill never holds one. */
export function gbkBytes(text: string): Buffer {
  const codes = encodingTable();
  const out = Buffer.alloc(text.length * 2);
  let at = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) {
      out[at++] = code;
      continue;
    }
    const gbk = codes.get(code);
    if (gbk === undefined) throw new RangeError(`not writable in GBK: ${JSON.stringify(text[index])}`);
    out[at++] = gbk >> 8;
    out[at++] = gbk & 0xff;
  }
  return out.subarray(0, at);
}
