/** Test support for other packages' tests: both storage engines, and an authenticator. */
export * from './test-databases.js';
export { totpCode } from '../auth/totp.js';
