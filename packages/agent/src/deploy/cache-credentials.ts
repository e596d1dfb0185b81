import { controllerHttpOrigin } from '../controller-origin.js';

/** The user name in netrc entries; the controller reads only the password. */
const NETRC_LOGIN = 'flotilla';

/**
 * The cache URL of a deploy request, checked: the agent fetches only from its controller's
 * own origin (scheme, host and port, with ws→http and wss→https), so a deploy request can
 * neither point it at another server nor make it send a credential anywhere else. A URL
 * with credentials in it is refused too. Throws with a message that says why.
 */
export function checkCacheUrl(cacheUrl: string, controllerUrl: string): string {
  let url: URL;
  try {
    url = new URL(cacheUrl);
  } catch {
    throw new Error(`the cache URL "${cacheUrl}" is not a URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`the cache URL for ${url.host} carries credentials; refusing it`);
  }
  const origin = controllerHttpOrigin(controllerUrl);
  if (url.origin !== origin) {
    throw new Error(
      `the cache ${url.origin} is not on the controller's origin ${origin}; the agent fetches only from its controller`,
    );
  }
  return url.toString();
}

/**
 * A netrc entry giving a cache credential to the cache's host only. netrc entries match
 * host names; curl sends them to no other host, also not after a redirect.
 */
export function netrcEntry(cacheUrl: string, credential: string): string {
  if (/[\s"]/.test(credential) || credential === '') {
    throw new Error('the cache credential cannot be expressed in a netrc file');
  }
  return `machine ${new URL(cacheUrl).hostname} login ${NETRC_LOGIN} password ${credential}\n`;
}
