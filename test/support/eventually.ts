/**
 * Waits until `check` holds, polling every 20 ms, for at most `ms`: for effects a store performs
 * in the background (deleting a bad record). Resolves whether it came true in time.
 */
export async function eventually(check: () => Promise<boolean>, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
