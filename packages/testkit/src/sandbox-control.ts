/** One client for every sandbox's control API (sandbox/kit): raw calls, faults, the ledger. */
export interface SandboxControl {
  /** A call to the sandbox, its answer as sent (status and text). */
  control(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  /** Resets the sandbox's faults, then sets `value` when given. */
  faults(value: Record<string, unknown> | undefined): Promise<void>;
  /** The sandbox's ledger of one merchant order, as its JSON reads (each sandbox has its own shape). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ledger(merchantOrderNo: string): Promise<any>;
}

/** `base` is read at each call: a test's sandbox is started after the client is made. */
export function sandboxControl(base: () => string): SandboxControl {
  const control: SandboxControl['control'] = async (method, path, body) => {
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  return {
    control,
    faults: async (value) => {
      await control('DELETE', '/sandbox/faults');
      if (value) await control('PUT', '/sandbox/faults', value);
    },
    ledger: async (merchantOrderNo) =>
      JSON.parse((await control('GET', `/sandbox/ledger?merchantOrderNo=${merchantOrderNo}`)).text),
  };
}
