/**
 * The load generator's HTTP: the services' own client (`httpRequest`, node:http, a few times cheaper per
 * request than fetch, which matters when the generator shares the 2 CPUs with the services) on a socket
 * pool wide enough for every request the bench keeps in flight.
 */
import http from 'node:http';
import { httpRequest, type HttpResponseText } from '@payments/platform';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 1024 });

export interface HttpAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function httpJson(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<HttpAnswer> {
  const { status, text } = await httpRequest(method, url, {
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    timeoutMs,
    agent,
  });
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status, body: parsed };
}

/** GET returning the text (for /metrics). */
export function httpText(url: string, timeoutMs = 10_000): Promise<HttpResponseText> {
  return httpRequest('GET', url, { timeoutMs, agent });
}

export function closeHttpAgent(): void {
  agent.destroy();
}
