/**
 * The http(s) origin of the agent's ws(s) controller URL: `wss://fleet:8443/x` →
 * `https://fleet:8443`. The agent signs its challenges for this origin, enrolls there and
 * fetches closures only from it.
 */
export function controllerHttpOrigin(controllerUrl: string): string {
  const url = new URL(controllerUrl);
  const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[url.protocol] ?? url.protocol;
  return new URL(`${scheme}//${url.host}`).origin;
}
