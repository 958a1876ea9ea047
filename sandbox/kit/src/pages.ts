/** What every sandbox's shopper pages share: escaping, and one plain page shell (no scripts). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** A page of `sandbox` ("Alipay sandbox", …): its title, its body, a line saying it is test money. */
export function sandboxPage(sandbox: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(sandbox)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
.amount{font-size:2rem}button{font-size:1.2rem;padding:.6rem 2rem}label{display:block;margin:.8rem 0}</style></head>
<body><p><small>${escapeHtml(sandbox)}: test money only</small></p>${body}</body></html>`;
}
